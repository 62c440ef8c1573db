import { bufferLimitsFor, ENV_VARS, parseConfig } from '../../extension/config.js';
import { AMAZON_LINUX_2_RUNTIMES, type Flavor } from '../layer/targets.js';
import type { FunctionSnapshot, FunctionUpdate } from './functions.js';
import { EXTENSION_VARIABLES, type GivenSettings, type SettingOrigin } from './loki-env.js';
import { type SecretAccess, secretAccessFor } from './secret-access.js';

/** Lambda's limits on a function's configuration. */
export const MAX_LAYERS_PER_FUNCTION = 5;
/** Lambda measures the compact JSON of the Variables map, in bytes ("String measured: {...}"). */
export const MAX_ENV_BYTES = 4096;
export const LOKI_ENV_PREFIX = 'LOKI_';

/** Tells whether a layer version ARN is a version of the extension (by name, description or content). */
export type IsOurLayer = (arn: string) => boolean;

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
    }
  | {
      /** The merged LOKI_* settings would not start the extension (the extension's own messages). */
      readonly kind: 'invalid-settings';
      readonly problems: readonly string[];
      readonly origins: Readonly<Record<string, SettingOrigin>>;
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
  /** Where each of the extension's variables after the change comes from (attach only). */
  readonly envOrigins: Readonly<Record<string, SettingOrigin>>;
  /** The extension's variables kept as they are on the function, shown so people see what stays. */
  readonly envKeptExtension: readonly string[];
  /** What the function's role needs to read a Loki credential kept in AWS (shown with the plan). */
  readonly secretAccess?: SecretAccess | undefined;
  /** Why nothing changes when that is not obvious: upgrade of a function without the extension. */
  readonly note: 'not-attached' | undefined;
  readonly update: FunctionUpdate | undefined;
}

/** The places a bearer token or a password may come from: exactly one each (extension/config.ts). */
const TOKEN_SOURCES = [ENV_VARS.bearerToken, ENV_VARS.bearerTokenSecretArn, ENV_VARS.bearerTokenSsmName];
const PASSWORD_SOURCES = [ENV_VARS.password, ENV_VARS.passwordSecretArn, ENV_VARS.passwordSsmName];

/** Compact JSON of the variables, in UTF-8 bytes: what Lambda compares with 4 KB. */
export function envSizeBytes(vars: Readonly<Record<string, string>>): number {
  return new TextEncoder().encode(JSON.stringify(vars)).length;
}

/**
 * Plans attaching `layer` and the given settings to a function: other layers keep their order, every
 * version of the extension (whatever its name) is replaced by one, in place; other variables are kept,
 * the extension's settings already on the function are kept unless given, and the merged settings must
 * be ones the extension accepts. Pure: the same snapshot and request always give the same plan.
 */
export function planAttach(
  fn: FunctionSnapshot,
  layer: LayerTarget,
  isOurs: IsOurLayer,
  given: GivenSettings,
): FunctionPlan {
  const base = { functionName: fn.name, runtime: fn.runtime, architecture: fn.architecture };
  if (fn.packageType === 'Image') {
    return refused(base, fn, [{ kind: 'container-image' }]);
  }
  const refusals: Refusal[] = [];
  if (
    fn.runtime !== undefined &&
    (AMAZON_LINUX_2_RUNTIMES as readonly string[]).includes(fn.runtime) &&
    layer.flavor !== undefined &&
    layer.flavor !== 'al2'
  ) {
    // Only the al2 flavor (Bun) runs on Amazon Linux 2; a layer of another flavor would fail at init.
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
  const archRefusal = archMismatch(fn, layer);
  if (archRefusal !== undefined) refusals.push(archRefusal);

  const layersAfter = replaceOurLayers(fn.layers, layer.arn, isOurs);
  if (layersAfter.length > MAX_LAYERS_PER_FUNCTION)
    refusals.push({ kind: 'too-many-layers', count: layersAfter.length });

  const envAfter: Record<string, string> = { ...fn.env };
  // Switching authentication, or where a secret comes from (the variable, Secrets Manager, SSM): the
  // variables given replace the others, which would make the configuration invalid, or leave a
  // plain-text token behind a reference.
  const givenAny = (names: readonly string[]) => names.some((name) => given.env[name] !== undefined);
  const dropUnless = (names: readonly string[]) => {
    for (const name of names) if (given.env[name] === undefined) delete envAfter[name];
  };
  if (givenAny(TOKEN_SOURCES)) dropUnless([...TOKEN_SOURCES, ENV_VARS.username, ...PASSWORD_SOURCES]);
  if (givenAny([ENV_VARS.username, ...PASSWORD_SOURCES])) dropUnless(TOKEN_SOURCES);
  if (givenAny(PASSWORD_SOURCES)) dropUnless(PASSWORD_SOURCES);
  for (const [name, value] of Object.entries(given.env)) {
    if (name.startsWith(LOKI_ENV_PREFIX)) envAfter[name] = value;
  }
  const origins: Record<string, SettingOrigin> = {};
  for (const name of EXTENSION_VARIABLES) {
    if (envAfter[name] !== undefined) origins[name] = given.origins[name] ?? 'function';
  }
  const parsed = parseConfig(envAfter);
  if (!parsed.ok) refusals.push({ kind: 'invalid-settings', problems: parsed.problems, origins });
  const bytes = envSizeBytes(envAfter);
  if (bytes > MAX_ENV_BYTES) refusals.push({ kind: 'env-too-large', bytes });
  const bufferRefusal = bufferTooLargeRefusal(envAfter, fn.memorySizeMb);
  if (bufferRefusal !== undefined) refusals.push(bufferRefusal);

  return finish(base, fn, layersAfter, envAfter, refusals, origins);
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

/**
 * Plans removing every version of the extension (whatever its layer name) and the variables the
 * extension reads; other LOKI_* variables belong to the application and stay.
 */
export function planDetach(fn: FunctionSnapshot, isOurs: IsOurLayer): FunctionPlan {
  const base = { functionName: fn.name, runtime: fn.runtime, architecture: fn.architecture };
  const layersAfter = fn.layers.filter((arn) => !isOurs(arn));
  const envAfter = Object.fromEntries(
    Object.entries(fn.env).filter(([name]) => !EXTENSION_VARIABLES.includes(name)),
  );
  return finish(base, fn, layersAfter, envAfter, []);
}

/**
 * Plans moving a function that has the extension to `layer`, changing nothing else. A function
 * without the extension is left alone (noted, not refused: a regex may select many of those).
 */
export function planUpgrade(fn: FunctionSnapshot, layer: LayerTarget, isOurs: IsOurLayer): FunctionPlan {
  const base = { functionName: fn.name, runtime: fn.runtime, architecture: fn.architecture };
  if (!fn.layers.some(isOurs)) return { ...finish(base, fn, fn.layers, fn.env, []), note: 'not-attached' };
  const refusals: Refusal[] = [];
  // Only the al2 flavor runs there (glibc 2.26): say so rather than move it to a layer that fails.
  if (
    fn.runtime !== undefined &&
    (AMAZON_LINUX_2_RUNTIMES as readonly string[]).includes(fn.runtime) &&
    layer.flavor !== 'al2'
  ) {
    refusals.push({ kind: 'amazon-linux-2', runtime: fn.runtime });
  }
  const archRefusal = archMismatch(fn, layer);
  if (archRefusal !== undefined) refusals.push(archRefusal);
  return finish(base, fn, replaceOurLayers(fn.layers, layer.arn, isOurs), fn.env, refusals);
}

/** A layer built for other architectures than the function's (a layer that says none fits any). */
function archMismatch(fn: FunctionSnapshot, layer: LayerTarget): Refusal | undefined {
  const arches = layer.compatibleArchitectures;
  if (arches === undefined || arches.length === 0 || arches.includes(fn.architecture)) return undefined;
  return { kind: 'arch-mismatch', functionArch: fn.architecture, layerArches: arches };
}

/** Every version of the extension replaced by `target`, once, where the first one was; others kept in order. */
function replaceOurLayers(layers: readonly string[], target: string, isOurs: IsOurLayer): string[] {
  const after: string[] = [];
  let placed = false;
  for (const arn of layers) {
    if (arn !== target && !isOurs(arn)) after.push(arn);
    else if (!placed) {
      after.push(target);
      placed = true;
    }
  }
  if (!placed) after.push(target);
  return after;
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
    envOrigins: {},
    envKeptExtension: [],
    note: undefined,
    update: undefined,
  };
}

function finish(
  base: PlanBase,
  fn: FunctionSnapshot,
  layersAfter: readonly string[],
  envAfter: Readonly<Record<string, string>>,
  refusals: readonly Refusal[],
  envOrigins: Readonly<Record<string, SettingOrigin>> = {},
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
    envOrigins,
    envKeptExtension: EXTENSION_VARIABLES.filter(
      (name) => envAfter[name] !== undefined && fn.env[name] === envAfter[name],
    ),
    secretAccess: secretAccessFor(envAfter, fn.arn, fn.role),
    note: undefined,
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
