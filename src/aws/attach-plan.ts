import { bufferLimitsFor, ENV_VARS } from '../../extension/config.js';
import { AMAZON_LINUX_2_RUNTIMES, type Flavor } from '../layer/targets.js';
import { layerNameOf } from './arn.js';
import type { FunctionSnapshot, FunctionUpdate } from './functions.js';

/** Lambda's limits on a function's configuration. */
export const MAX_LAYERS_PER_FUNCTION = 5;
/** Lambda measures the compact JSON of the Variables map, in bytes ("String measured: {...}"). */
export const MAX_ENV_BYTES = 4096;
export const LOKI_ENV_PREFIX = 'LOKI_';

/** The layer version to attach. `arn` may be a placeholder in a dry run that would publish. */
export interface LayerTarget {
  readonly arn: string;
  readonly name: string;
  readonly flavor: Flavor | undefined;
  /** As declared on the layer version; undefined when not known (no check is made then). */
  readonly compatibleArchitectures: readonly string[] | undefined;
  readonly compatibleRuntimes: readonly string[] | undefined;
}

export type Refusal =
  | { readonly kind: 'container-image' }
  | { readonly kind: 'amazon-linux-2'; readonly runtime: string }
  | {
      readonly kind: 'runtime-unsupported';
      readonly runtime: string | undefined;
      readonly flavor: Flavor | undefined;
      readonly layerName: string;
    }
  | { readonly kind: 'arch-mismatch'; readonly functionArch: string; readonly layerArches: readonly string[] }
  | { readonly kind: 'too-many-layers'; readonly count: number }
  | { readonly kind: 'env-too-large'; readonly bytes: number }
  | {
      readonly kind: 'buffer-too-large';
      readonly memorySizeMb: number;
      readonly bytes: number;
      readonly maxBytes: number;
    };

/** One environment variable that changes: `before` undefined = added, `after` undefined = removed. */
export interface EnvChange {
  readonly name: string;
  readonly before: string | undefined;
  readonly after: string | undefined;
}

export interface FunctionPlan {
  readonly functionName: string;
  readonly runtime: string | undefined;
  readonly architecture: string;
  readonly status: 'change' | 'unchanged' | 'refused';
  readonly refusals: readonly Refusal[];
  readonly layersBefore: readonly string[];
  readonly layersAfter: readonly string[];
  readonly envChanges: readonly EnvChange[];
  /** Variables neither added, changed nor removed (their values are never shown). */
  readonly envKeptCount: number;
  readonly update: FunctionUpdate | undefined;
}

/** Compact JSON of the variables, in UTF-8 bytes: what Lambda compares with 4 KB. */
export function envSizeBytes(vars: Readonly<Record<string, string>>): number {
  return new TextEncoder().encode(JSON.stringify(vars)).length;
}

/** True when this layer ARN is a version of one of our layers (matched by the layer name). */
export function isOurLayer(arn: string, ourLayerNames: ReadonlySet<string>): boolean {
  const name = layerNameOf(arn);
  return name !== undefined && ourLayerNames.has(name);
}

/**
 * Plans attaching `layer` and `lokiEnv` to a function: other layers keep their order, a version of our
 * layer is replaced in place (not duplicated), other variables are kept and only LOKI_* ones are set.
 * Pure: the same snapshot and request always give the same plan.
 */
export function planAttach(
  fn: FunctionSnapshot,
  layer: LayerTarget,
  ourLayerNames: ReadonlySet<string>,
  lokiEnv: Readonly<Record<string, string>>,
): FunctionPlan {
  const base = { functionName: fn.name, runtime: fn.runtime, architecture: fn.architecture };
  if (fn.packageType === 'Image') {
    return refused(base, fn, [{ kind: 'container-image' }]);
  }
  const refusals: Refusal[] = [];
  if (fn.runtime !== undefined && (AMAZON_LINUX_2_RUNTIMES as readonly string[]).includes(fn.runtime)) {
    refusals.push({ kind: 'amazon-linux-2', runtime: fn.runtime });
  } else if (
    layer.compatibleRuntimes !== undefined &&
    layer.compatibleRuntimes.length > 0 &&
    (fn.runtime === undefined || !layer.compatibleRuntimes.includes(fn.runtime))
  ) {
    refusals.push({
      kind: 'runtime-unsupported',
      runtime: fn.runtime,
      flavor: layer.flavor,
      layerName: layer.name,
    });
  }
  if (
    layer.compatibleArchitectures !== undefined &&
    layer.compatibleArchitectures.length > 0 &&
    !layer.compatibleArchitectures.includes(fn.architecture)
  ) {
    refusals.push({
      kind: 'arch-mismatch',
      functionArch: fn.architecture,
      layerArches: layer.compatibleArchitectures,
    });
  }

  const names = new Set([...ourLayerNames, layer.name]);
  const layersAfter: string[] = [];
  let placed = false;
  for (const arn of fn.layers) {
    if (!isOurLayer(arn, names)) layersAfter.push(arn);
    else if (!placed) {
      layersAfter.push(layer.arn);
      placed = true;
    }
  }
  if (!placed) layersAfter.push(layer.arn);
  if (layersAfter.length > MAX_LAYERS_PER_FUNCTION)
    refusals.push({ kind: 'too-many-layers', count: layersAfter.length });

  const envAfter: Record<string, string> = { ...fn.env };
  // Switching authentication: the other method's variables would make the configuration invalid.
  if (lokiEnv[ENV_VARS.bearerToken] !== undefined) {
    delete envAfter[ENV_VARS.username];
    delete envAfter[ENV_VARS.password];
  }
  if (lokiEnv[ENV_VARS.username] !== undefined || lokiEnv[ENV_VARS.password] !== undefined) {
    delete envAfter[ENV_VARS.bearerToken];
  }
  for (const [name, value] of Object.entries(lokiEnv)) {
    if (name.startsWith(LOKI_ENV_PREFIX)) envAfter[name] = value;
  }
  const bytes = envSizeBytes(envAfter);
  if (bytes > MAX_ENV_BYTES) refusals.push({ kind: 'env-too-large', bytes });
  const bufferRefusal = bufferTooLargeRefusal(envAfter, fn.memorySizeMb);
  if (bufferRefusal !== undefined) refusals.push(bufferRefusal);

  return finish(base, fn, layersAfter, envAfter, refusals);
}

/** The extension would replace this LOKI_MAX_BUFFER_BYTES (too large for the memory): refuse it here. */
function bufferTooLargeRefusal(
  env: Readonly<Record<string, string>>,
  memorySizeMb: number | undefined,
): Refusal | undefined {
  const raw = env[ENV_VARS.maxBufferBytes]?.trim();
  if (memorySizeMb === undefined || raw === undefined || !/^\d+$/.test(raw)) return undefined;
  const { maxBytes } = bufferLimitsFor(memorySizeMb);
  const bytes = Number(raw);
  return bytes > maxBytes ? { kind: 'buffer-too-large', memorySizeMb, bytes, maxBytes } : undefined;
}

/** Plans removing every version of our layers and every LOKI_* variable, leaving the rest as it was. */
export function planDetach(fn: FunctionSnapshot, ourLayerNames: ReadonlySet<string>): FunctionPlan {
  const base = { functionName: fn.name, runtime: fn.runtime, architecture: fn.architecture };
  const layersAfter = fn.layers.filter((arn) => !isOurLayer(arn, ourLayerNames));
  const envAfter = Object.fromEntries(
    Object.entries(fn.env).filter(([name]) => !name.startsWith(LOKI_ENV_PREFIX)),
  );
  return finish(base, fn, layersAfter, envAfter, []);
}

type PlanBase = Pick<FunctionPlan, 'functionName' | 'runtime' | 'architecture'>;

function refused(base: PlanBase, fn: FunctionSnapshot, refusals: readonly Refusal[]): FunctionPlan {
  return {
    ...base,
    status: 'refused',
    refusals,
    layersBefore: fn.layers,
    layersAfter: fn.layers,
    envChanges: [],
    envKeptCount: Object.keys(fn.env).length,
    update: undefined,
  };
}

function finish(
  base: PlanBase,
  fn: FunctionSnapshot,
  layersAfter: readonly string[],
  envAfter: Readonly<Record<string, string>>,
  refusals: readonly Refusal[],
): FunctionPlan {
  const envChanges = diffEnv(fn.env, envAfter);
  const layersChanged =
    layersAfter.length !== fn.layers.length || layersAfter.some((arn, i) => arn !== fn.layers[i]);
  const changed = layersChanged || envChanges.length > 0;
  const names = new Set([...Object.keys(fn.env), ...Object.keys(envAfter)]);
  return {
    ...base,
    status: refusals.length > 0 ? 'refused' : changed ? 'change' : 'unchanged',
    refusals,
    layersBefore: fn.layers,
    layersAfter,
    envChanges,
    envKeptCount: names.size - envChanges.length,
    update:
      refusals.length === 0 && changed
        ? {
            functionName: fn.name,
            revisionId: fn.revisionId,
            ...(layersChanged ? { layers: layersAfter } : {}),
            ...(envChanges.length > 0 ? { env: envAfter } : {}),
          }
        : undefined,
  };
}

function diffEnv(
  before: Readonly<Record<string, string>>,
  after: Readonly<Record<string, string>>,
): EnvChange[] {
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return names
    .filter((name) => before[name] !== after[name])
    .map((name) => ({ name, before: before[name], after: after[name] }));
}
