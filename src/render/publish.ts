import type { GrantOutcome, LayerGrant, LayerZip, PublishOutcome } from '../aws/layer-versions.js';
import { formatBytes } from './format.js';

export function renderPublished(zip: LayerZip, outcome: PublishOutcome): string {
  const what = `${zip.flavor}, ${zip.arch}, ${formatBytes(zip.sizeBytes)}`;
  if (outcome.action === 'reused') {
    return `reused     ${outcome.layerVersionArn} (${what}; the newest version already has this SHA-256)\n`;
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

export function publishToJson(
  zip: LayerZip,
  outcome: PublishOutcome | undefined,
  grants: readonly GrantOutcome[],
) {
  return {
    layerName: outcome?.layerName ?? null,
    layerVersionArn: outcome?.layerVersionArn ?? null,
    version: outcome?.version ?? null,
    action: outcome?.action ?? 'would-publish',
    flavor: zip.flavor,
    arch: zip.arch,
    sizeBytes: zip.sizeBytes,
    sha256: zip.sha256Hex,
    grants: grants.map((g) => ({ ...g.grant, status: g.status })),
  };
}

export function renderWouldPublish(zip: LayerZip): string {
  return `would publish a new version (${zip.flavor}, ${zip.arch}, ${formatBytes(zip.sizeBytes)}; dry run)\n`;
}
