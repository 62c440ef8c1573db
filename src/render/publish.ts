import type {
  GrantOutcome,
  LayerGrant,
  LayerUpload,
  LayerZip,
  PublishOutcome,
  PublishRequest,
} from '../aws/layer-versions.js';
import { formatBytes } from './format.js';

export function renderPublished(zip: LayerZip, outcome: PublishOutcome): string {
  const what = `${zip.flavor}, ${zip.arch}, ${formatBytes(zip.sizeBytes)}`;
  if (outcome.action === 'reused') {
    return `reused     ${outcome.layerVersionArn} (${what}; version ${outcome.version} already has this SHA-256)\n`;
  }
  const via = outcome.upload === 's3' ? '; uploaded through S3' : '';
  return `published  ${outcome.layerVersionArn} (${what}${via})\n`;
}

export function renderGrant(outcome: GrantOutcome): string {
  const who = describeGrant(outcome.grant);
  return outcome.status === 'granted' ? `  shared with ${who}\n` : `  already shared with ${who}\n`;
}

function describeGrant(grant: LayerGrant): string {
  switch (grant.kind) {
    case 'public':
      return 'every AWS account (public)';
    case 'account':
      return `account ${grant.accountId}`;
    case 'organization':
      return `organization ${grant.organizationId}`;
  }
}

/** One layer in `--json`: same field names as `build --json` (sha256Hex, sha256Base64). */
export function publishToJson(
  target: { readonly layerName: string; readonly zip: LayerZip },
  outcome: PublishOutcome | undefined,
  grants: readonly GrantOutcome[],
) {
  const { zip } = target;
  return {
    layerName: outcome?.layerName ?? target.layerName,
    layerVersionArn: outcome?.layerVersionArn ?? null,
    version: outcome?.version ?? null,
    action: outcome?.action ?? 'would-publish',
    flavor: zip.flavor,
    arch: zip.arch,
    sizeBytes: zip.sizeBytes,
    sha256Hex: zip.sha256Hex,
    sha256Base64: zip.sha256Base64,
    grants: grants.map((g) => ({ ...g.grant, status: g.status })),
  };
}

export function renderWouldPublish(zip: LayerZip): string {
  return `would publish a new version (${zip.flavor}, ${zip.arch}, ${formatBytes(zip.sizeBytes)}; dry run)\n`;
}

/** Before confirmation: a version that will be published only once the changes are confirmed. */
export function renderToPublish(request: PublishRequest): string {
  const { zip } = request;
  return `to publish ${request.layerName}: a new version (${zip.flavor}, ${zip.arch}, ${formatBytes(zip.sizeBytes)}) once the changes are applied\n`;
}

/** Before an upload starts: tens of MiB take a while. */
/** The upload's progress line on a terminal, rewritten in place; ends the line when done. */
export function renderUploadProgress(upload: LayerUpload, sentBytes: number, totalBytes: number): string {
  const percent = totalBytes === 0 ? 100 : Math.floor((sentBytes / totalBytes) * 100);
  const line = `\r\x1b[K  ${upload.layerName}: ${formatBytes(sentBytes)} of ${formatBytes(totalBytes)} sent (${percent}%)`;
  return sentBytes >= totalBytes ? `${line}\n` : line;
}

export function renderUpload(upload: LayerUpload): string {
  return `uploading ${upload.layerName} (${formatBytes(upload.sizeBytes)}) to ${upload.to} ...\n`;
}
