import type { Architecture, LambdaClient } from '@aws-sdk/client-lambda';
import { parseConfig } from '../../extension/config.js';
import { redactUrl } from '../../extension/redact.js';
import { ENV_VARS } from '../../extension/settings.js';
import { ARCHES, FLAVORS, type Flavor, runtimesFor } from '../layer/targets.js';
import { layerNameOf, parseLayerVersionArn } from './arn.js';
import type { FunctionSnapshot } from './functions.js';
import type { LayerIdentities } from './layer-identity.js';
import { findNewestLayerVersion, type NewestLayerVersion } from './layer-lookup.js';

/** One function of a fleet, as `status` reports it. */
export interface FunctionStatus {
  readonly region: string;
  readonly name: string;
  readonly runtime: string | undefined;
  readonly architecture: string;
  /** `instrumented`: our layer is on it; `missing`: it is not; `error`: it could not be read. */
  readonly state: 'instrumented' | 'missing' | 'error';
  readonly layerArn?: string;
  readonly layerVersion?: number;
  readonly flavor?: Flavor;
  /** The newest version of the same layer for its architecture, when newer than the one attached. */
  readonly newerVersion?: number;
  readonly outdated: boolean;
  readonly flushStrategy?: string;
  /** LOKI_ENDPOINT_URL with userinfo and query values masked. */
  readonly lokiUrl?: string;
  /** The settings pass the extension's own parser (with the function's memory size). */
  readonly valid: boolean;
  readonly problems: readonly string[];
  /** A flavor of the layer serves its runtime and architecture (and it is a zip, not an image). */
  readonly supported: boolean;
  readonly error?: string;
}

/** Looks up each layer's newest version once per run (a fleet shares a few layers). */
export class NewestVersions {
  private readonly cache = new Map<string, Promise<NewestLayerVersion | undefined>>();
  constructor(private readonly lambda: LambdaClient) {}

  get(layerName: string, arch: Architecture): Promise<NewestLayerVersion | undefined> {
    const key = `${layerName}/${arch}`;
    let found = this.cache.get(key);
    if (found === undefined) {
      found = findNewestLayerVersion(this.lambda, layerName, arch).catch(() => undefined);
      this.cache.set(key, found);
    }
    return found;
  }
}

export function isSupported(fn: FunctionSnapshot): boolean {
  return (
    fn.packageType === 'Zip' &&
    (ARCHES as readonly string[]).includes(fn.architecture) &&
    FLAVORS.some((flavor) => fn.runtime !== undefined && runtimesFor(flavor).includes(fn.runtime))
  );
}

/** What `status` says of one function read with GetFunctionConfiguration. */
export async function statusOf(
  region: string,
  fn: FunctionSnapshot,
  identities: LayerIdentities,
  newest: NewestVersions,
): Promise<FunctionStatus> {
  await identities.learn(fn.layers);
  const ours = fn.layers.find((arn) => identities.isOurs(arn));
  const base = {
    region,
    name: fn.name,
    runtime: fn.runtime,
    architecture: fn.architecture,
    supported: isSupported(fn),
  };
  if (ours === undefined) return { ...base, state: 'missing', outdated: false, valid: false, problems: [] };
  const parsedArn = parseLayerVersionArn(ours);
  const layerName = layerNameOf(ours);
  const latest =
    layerName === undefined || !(ARCHES as readonly string[]).includes(fn.architecture)
      ? undefined
      : await newest.get(layerName, fn.architecture as Architecture);
  const newerVersion =
    latest !== undefined && parsedArn !== undefined && latest.version > parsedArn.version
      ? latest.version
      : undefined;
  const parsed = parseConfig(fn.env, { functionMemoryMb: fn.memorySizeMb });
  const url = fn.env[ENV_VARS.endpointUrl];
  return {
    ...base,
    state: 'instrumented',
    layerArn: ours,
    ...(parsedArn === undefined ? {} : { layerVersion: parsedArn.version }),
    ...(identities.flavorOf(ours) === undefined ? {} : { flavor: identities.flavorOf(ours) }),
    ...(newerVersion === undefined ? {} : { newerVersion }),
    outdated: newerVersion !== undefined,
    flushStrategy: fn.env[ENV_VARS.flushStrategy] ?? 'auto',
    ...(url === undefined ? {} : { lokiUrl: redactUrl(url) }),
    valid: parsed.ok,
    problems: parsed.ok ? [] : parsed.problems,
  };
}

/** A function that could not be read; `message` is already fit to print (redacted). */
export function unreadableStatus(region: string, name: string, message: string): FunctionStatus {
  return {
    region,
    name,
    runtime: undefined,
    architecture: '',
    state: 'error',
    outdated: false,
    valid: false,
    problems: [],
    supported: false,
    error: message,
  };
}
