import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  AddLayerVersionPermissionCommand,
  GetLayerVersionCommand,
  type LambdaClient,
  PublishLayerVersionCommand,
  paginateListLayerVersions,
  type Runtime,
} from '@aws-sdk/client-lambda';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { BuiltLayer } from '../layer/build-layers.js';
import { type Arch, DIRECT_UPLOAD_LIMIT_BYTES, type Flavor } from '../layer/targets.js';
import { awsErrorName, ZipTooLargeError } from './errors.js';
import { reportUploadProgress, type UploadProgress } from './upload-progress.js';

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
  /** `reused`: a version already holds this exact zip (same CodeSha256) and targets. */
  readonly action: 'published' | 'reused';
  readonly upload: 'direct' | 's3' | 'none';
}

/**
 * A version of the layer that can stand for this zip: same CodeSha256, architectures and runtimes.
 * Looks at every version, newest first, across ListLayerVersions pages (two CLI versions used in one
 * team alternate between two zips; the newest alone would publish a copy on every other run). Only the
 * versions whose declared targets match are read for their CodeSha256.
 */
export async function findReusableLayerVersion(
  lambda: LambdaClient,
  request: PublishRequest,
): Promise<LayerVersionInfo | undefined> {
  try {
    for await (const page of paginateListLayerVersions(
      { client: lambda },
      { LayerName: request.layerName, CompatibleArchitecture: request.zip.arch },
    )) {
      for (const item of page.LayerVersions ?? []) {
        if (item.Version === undefined) continue;
        if (!sameSet(item.CompatibleArchitectures ?? [], [request.zip.arch])) continue;
        if (!sameSet(item.CompatibleRuntimes ?? [], request.compatibleRuntimes)) continue;
        const got = await lambda.send(
          new GetLayerVersionCommand({ LayerName: request.layerName, VersionNumber: item.Version }),
        );
        const info: LayerVersionInfo = {
          layerName: request.layerName,
          version: item.Version,
          layerVersionArn: got.LayerVersionArn ?? item.LayerVersionArn ?? '',
          codeSha256: got.Content?.CodeSha256,
          compatibleRuntimes: got.CompatibleRuntimes ?? [],
          compatibleArchitectures: got.CompatibleArchitectures ?? [],
        };
        if (canReuse(info, request)) return info;
      }
    }
  } catch (error) {
    if (awsErrorName(error) === 'ResourceNotFoundException') return undefined;
    throw error;
  }
  return undefined;
}

/** True when `existing` can stand for the zip we would publish: same bytes, same declared targets. */
export function canReuse(existing: LayerVersionInfo, request: PublishRequest): boolean {
  return (
    existing.codeSha256 === request.zip.sha256Base64 &&
    sameSet(existing.compatibleArchitectures, [request.zip.arch]) &&
    sameSet(existing.compatibleRuntimes, request.compatibleRuntimes)
  );
}

/** Told before an upload starts, so that people see why the command is busy. */
export interface LayerUpload {
  readonly layerName: string;
  readonly sizeBytes: number;
  /** `Lambda`, or the s3:// URL the zip is staged at. */
  readonly to: string;
}

/** Told before an upload starts; what it returns (if anything) hears how far the upload got. */
export type OnUpload = (upload: LayerUpload) => UploadProgress | undefined;

/** Publishes the zip unless a version of the layer already holds it (see findReusableLayerVersion). */
export async function publishLayerZip(
  lambda: LambdaClient,
  getS3: () => Promise<S3Client>,
  request: PublishRequest,
  onUpload: OnUpload = () => undefined,
): Promise<PublishOutcome> {
  const existing = await findReusableLayerVersion(lambda, request);
  if (existing !== undefined) return { ...existing, action: 'reused', upload: 'none' };
  return publishNewLayerVersion(lambda, getS3, request, onUpload);
}

/**
 * Publishes the zip as a new layer version. Zips over the direct-upload limit are put in `s3Bucket`
 * first (which must be in the same region). Says what it uploads before it starts: a standalone zip
 * is tens of MiB and the upload takes a while on a slow link.
 */
export async function publishNewLayerVersion(
  lambda: LambdaClient,
  getS3: () => Promise<S3Client>,
  request: PublishRequest,
  onUpload: OnUpload = () => undefined,
): Promise<PublishOutcome> {
  const { zip } = request;
  const viaS3 = zip.sizeBytes > DIRECT_UPLOAD_LIMIT_BYTES;
  if (viaS3 && request.s3Bucket === undefined) {
    throw new ZipTooLargeError(zip.path, zip.sizeBytes, DIRECT_UPLOAD_LIMIT_BYTES);
  }
  const body = await readFile(zip.path);
  let content: { ZipFile: Uint8Array } | { S3Bucket: string; S3Key: string };
  if (viaS3 && request.s3Bucket !== undefined) {
    const key = `loki-lambda/${request.layerName}/${zip.sha256Hex}.zip`;
    const progress = onUpload({
      layerName: request.layerName,
      sizeBytes: zip.sizeBytes,
      to: `s3://${request.s3Bucket}/${key}`,
    });
    const put = new PutObjectCommand({ Bucket: request.s3Bucket, Key: key, Body: body });
    if (progress) reportUploadProgress(put, progress);
    await (await getS3()).send(put);
    content = { S3Bucket: request.s3Bucket, S3Key: key };
  } else {
    content = { ZipFile: body };
  }
  const directProgress = viaS3
    ? undefined
    : onUpload({ layerName: request.layerName, sizeBytes: zip.sizeBytes, to: 'Lambda' });
  const publish = new PublishLayerVersionCommand({
    LayerName: request.layerName,
    Description: request.description,
    Content: content,
    CompatibleArchitectures: [zip.arch],
    // Runtime names are validated by Lambda; the SDK's union lags behind new runtimes.
    CompatibleRuntimes: [...request.compatibleRuntimes] as Runtime[],
    LicenseInfo: LAYER_LICENSE,
  });
  if (directProgress) reportUploadProgress(publish, directProgress);
  const published = await lambda.send(publish);
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
