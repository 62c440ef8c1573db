import { type Architecture, type LambdaClient, ListLayerVersionsCommand } from '@aws-sdk/client-lambda';
import { awsErrorName } from './errors.js';

export interface NewestLayerVersion {
  readonly layerName: string;
  readonly version: number;
  readonly layerVersionArn: string;
}

/**
 * The newest version of a layer in the client's region for one architecture, or undefined when the
 * layer has none. ListLayerVersions lists the newest first, so the first page is enough.
 */
export async function findNewestLayerVersion(
  lambda: LambdaClient,
  layerName: string,
  arch: Architecture,
): Promise<NewestLayerVersion | undefined> {
  try {
    const page = await lambda.send(
      new ListLayerVersionsCommand({ LayerName: layerName, CompatibleArchitecture: arch, MaxItems: 1 }),
    );
    const newest = page.LayerVersions?.[0];
    if (newest?.Version === undefined || newest.LayerVersionArn === undefined) return undefined;
    return { layerName, version: newest.Version, layerVersionArn: newest.LayerVersionArn };
  } catch (error) {
    if (awsErrorName(error) === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}
