import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  AddLayerVersionPermissionCommand,
  GetLayerVersionCommand,
  type LambdaClient,
  ListLayerVersionsCommand,
  PublishLayerVersionCommand,
  type Runtime,
} from '@aws-sdk/client-lambda';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { BuiltLayer } from '../layer/build-layers.js';
import { type Arch, DIRECT_UPLOAD_LIMIT_BYTES, type Flavor } from '../layer/targets.js';
import { awsErrorName, ZipTooLargeError } from './errors.js';

export const LAYER_LICENSE = 'Apache-2.0';
/** Action a layer permission grants: using the layer version in a function. */
const GET_LAYER_VERSION_ACTION = 'lambda:GetLayerVersion';

/** A layer zip to publish: what `buildLayers` returns, or the same facts of a zip given with --zip. */
export type LayerZip = Omit<BuiltLayer, 'nodeVersion'>;

export interface LayerVersionInfo {
  readonly layerName: string;
  readonly version: number;
  readonly layerVersionArn: string;
  readonly codeSha256: string | undefined;
  readonly compatibleRuntimes: readonly string[];
  readonly compatibleArchitectures: readonly string[];
}

export interface PublishRequest {
  readonly layerName: string;
  readonly zip: LayerZip;
  readonly compatibleRuntimes: readonly string[];
  readonly description: string;
  readonly s3Bucket: string | undefined;
}

export interface PublishOutcome extends LayerVersionInfo {
  /** `reused`: the newest version already holds this exact zip (same CodeSha256) and targets. */
  readonly action: 'published' | 'reused';
  readonly upload: 'direct' | 's3' | 'none';
}

/** The newest version of a layer with its CodeSha256, or undefined when the layer has no version yet. */
export async function findNewestLayerVersion(
  lambda: LambdaClient,
  layerName: string,
): Promise<LayerVersionInfo | undefined> {
  let newest: number | undefined;
  try {
    const listed = await lambda.send(new ListLayerVersionsCommand({ LayerName: layerName, MaxItems: 1 }));
    newest = listed.LayerVersions?.[0]?.Version;
  } catch (error) {
    if (awsErrorName(error) === 'ResourceNotFoundException') return undefined;
    throw error;
  }
  if (newest === undefined) return undefined;
  const got = await lambda.send(new GetLayerVersionCommand({ LayerName: layerName, VersionNumber: newest }));
  return {
    layerName,
    version: newest,
    layerVersionArn: got.LayerVersionArn ?? '',
    codeSha256: got.Content?.CodeSha256,
    compatibleRuntimes: got.CompatibleRuntimes ?? [],
    compatibleArchitectures: got.CompatibleArchitectures ?? [],
  };
}

/** True when `existing` can stand for the zip we would publish: same bytes, same declared targets. */
export function canReuse(existing: LayerVersionInfo, request: PublishRequest): boolean {
  return (
    existing.codeSha256 === request.zip.sha256Base64 &&
    sameSet(existing.compatibleArchitectures, [request.zip.arch]) &&
    sameSet(existing.compatibleRuntimes, request.compatibleRuntimes)
  );
}

/**
 * Publishes the zip as a new layer version unless the newest version is identical. Zips over the
 * direct-upload limit are put in `s3Bucket` first (which must be in the same region).
 */
export async function publishLayerZip(
  lambda: LambdaClient,
  getS3: () => Promise<S3Client>,
  request: PublishRequest,
): Promise<PublishOutcome> {
  const { zip } = request;
  const viaS3 = zip.sizeBytes > DIRECT_UPLOAD_LIMIT_BYTES;
  if (viaS3 && request.s3Bucket === undefined) {
    throw new ZipTooLargeError(zip.path, zip.sizeBytes, DIRECT_UPLOAD_LIMIT_BYTES);
  }
  const existing = await findNewestLayerVersion(lambda, request.layerName);
  if (existing !== undefined && canReuse(existing, request)) {
    return { ...existing, action: 'reused', upload: 'none' };
  }
  const body = await readFile(zip.path);
  let content: { ZipFile: Uint8Array } | { S3Bucket: string; S3Key: string };
  if (viaS3 && request.s3Bucket !== undefined) {
    const key = `loki-lambda/${request.layerName}/${zip.sha256Hex}.zip`;
    await (await getS3()).send(new PutObjectCommand({ Bucket: request.s3Bucket, Key: key, Body: body }));
    content = { S3Bucket: request.s3Bucket, S3Key: key };
  } else {
    content = { ZipFile: body };
  }
  const published = await lambda.send(
    new PublishLayerVersionCommand({
      LayerName: request.layerName,
      Description: request.description,
      Content: content,
      CompatibleArchitectures: [zip.arch],
      // Runtime names are validated by Lambda; the SDK's union lags behind new runtimes.
      CompatibleRuntimes: [...request.compatibleRuntimes] as Runtime[],
      LicenseInfo: LAYER_LICENSE,
    }),
  );
  return {
    layerName: request.layerName,
    version: published.Version ?? 0,
    layerVersionArn: published.LayerVersionArn ?? '',
    codeSha256: published.Content?.CodeSha256,
    compatibleRuntimes: published.CompatibleRuntimes ?? [...request.compatibleRuntimes],
    compatibleArchitectures: published.CompatibleArchitectures ?? [zip.arch],
    action: 'published',
    upload: viaS3 ? 's3' : 'direct',
  };
}

/** Who may use a layer version: everyone, one account, or every account of an organization. */
export type LayerGrant =
  | { readonly kind: 'public' }
  | { readonly kind: 'account'; readonly accountId: string }
  | { readonly kind: 'organization'; readonly organizationId: string };

export interface GrantOutcome {
  readonly grant: LayerGrant;
  readonly status: 'granted' | 'already-granted';
}

export function statementIdFor(grant: LayerGrant): string {
  switch (grant.kind) {
    case 'public':
      return 'loki-lambda-public';
    case 'account':
      return `loki-lambda-account-${grant.accountId}`;
    case 'organization':
      return `loki-lambda-org-${grant.organizationId}`;
  }
}

/** AddLayerVersionPermission for each grant; a statement that already exists counts as granted. */
export async function grantLayerAccess(
  lambda: LambdaClient,
  layerName: string,
  version: number,
  grants: readonly LayerGrant[],
): Promise<GrantOutcome[]> {
  const outcomes: GrantOutcome[] = [];
  for (const grant of grants) {
    try {
      await lambda.send(
        new AddLayerVersionPermissionCommand({
          LayerName: layerName,
          VersionNumber: version,
          StatementId: statementIdFor(grant),
          Action: GET_LAYER_VERSION_ACTION,
          Principal: grant.kind === 'account' ? grant.accountId : '*',
          ...(grant.kind === 'organization' ? { OrganizationId: grant.organizationId } : {}),
        }),
      );
      outcomes.push({ grant, status: 'granted' });
    } catch (error) {
      // Reusing a version that was already shared: the statement id is taken.
      if (awsErrorName(error) !== 'ResourceConflictException') throw error;
      outcomes.push({ grant, status: 'already-granted' });
    }
  }
  return outcomes;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const set = new Set(a);
  return set.size === new Set(b).size && b.every((item) => set.has(item));
}

/** A zip given with --zip: its size and SHA-256 (hex, and base64 as Lambda's CodeSha256). */
export async function describeZipFile(path: string, flavor: Flavor, arch: Arch): Promise<LayerZip> {
  const body = await readFile(path);
  const digest = createHash('sha256').update(body).digest();
  return {
    flavor,
    arch,
    path,
    sizeBytes: body.length,
    sha256Hex: digest.toString('hex'),
    sha256Base64: digest.toString('base64'),
  };
}
