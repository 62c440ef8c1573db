import type { IAMClient } from '@aws-sdk/client-iam';
import { GetLayerVersionByArnCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import { ARCHES, type Arch, FLAVORS, type Flavor, runtimesFor } from '../layer/targets.js';
import { parseFunctionArn, parseLayerVersionArn } from './arn.js';
import type { LayerTarget } from './attach-plan.js';
import { mapWithLimit } from './concurrency.js';
import type { AwsDeps } from './deps.js';
import { awsErrorName } from './errors.js';
import { flavorFor } from './flavor-choice.js';
import {
  applyFunctionUpdate,
  type FunctionSnapshot,
  type FunctionUpdate,
  listFunctionNames,
  readSettledFunction,
} from './functions.js';
import { layerDescription, parseLayerDescription } from './layer-identity.js';
import {
  findReusableLayerVersion,
  type GrantOutcome,
  grantLayerAccess,
  type LayerGrant,
  type LayerVersionInfo,
  type LayerZip,
  type OnUpload,
  type PublishOutcome,
  type PublishRequest,
  publishNewLayerVersion,
} from './layer-versions.js';

/** The layer versions of one base name: `loki-lambda-slim-x86_64`, `loki-lambda-standalone-arm64`, … */
export function layerNameFor(baseName: string, flavor: Flavor, arch: Arch): string {
  return `${baseName}-${flavor}-${arch}`;
}

/** Every name a version of our layer may have: the base name and each flavor/arch variant. */
export function ourLayerNames(baseName: string, extra: readonly string[] = []): Set<string> {
  const names = new Set([baseName, ...extra]);
  for (const flavor of FLAVORS) for (const arch of ARCHES) names.add(layerNameFor(baseName, flavor, arch));
  return names;
}

/** The flavor a function needs (flavor-choice.ts): slim, al2 (Amazon Linux 2) or standalone. */
export function flavorForRuntime(runtime: string | undefined): Flavor {
  return flavorFor({ runtime });
}

export { layerDescription } from './layer-identity.js';

/** Where the layer comes from: a given version ARN, or built and published (or reused) per function. */
export type LayerSource =
  | { readonly kind: 'arn'; readonly arn: string }
  | {
      readonly kind: 'publish';
      readonly baseName: string;
      /** Forces one flavor; otherwise chosen from each function's runtime. */
      readonly flavor: Flavor | undefined;
      readonly s3Bucket: string | undefined;
      readonly grants: readonly LayerGrant[];
      readonly version: string;
    };

export interface PublishedLayer {
  readonly zip: LayerZip;
  /** Undefined in a dry run when a new version would be published. */
  readonly outcome: PublishOutcome | undefined;
  readonly grants: readonly GrantOutcome[];
}

export interface AwsContext {
  readonly lambda: LambdaClient;
  /** The region every call goes to (named in "not found" errors). */
  readonly region: string;
  /** Created on first use: most runs never stage a zip in S3. */
  readonly getS3: () => Promise<S3Client>;
  /** Created on first use, for --check-permissions; undefined when the deps give no IAM client. */
  readonly getIam?: () => Promise<IAMClient> | undefined;
  readonly deps: AwsDeps;
  /** Progress for people (stderr): builds, retries, waits. */
  readonly progress: (message: string) => void;
  /** Told before a layer zip is uploaded. */
  readonly onUpload: OnUpload;
  /** Told when a function is being waited for (an update in progress). */
  readonly onWait: (functionName: string) => void;
}

/** The positional functions and the regex matches, each once, in the order given. */
export async function selectFunctions(
  ctx: AwsContext,
  names: readonly string[],
  pattern: RegExp | undefined,
): Promise<string[]> {
  const selected = [...names];
  if (pattern !== undefined)
    selected.push(...(await listFunctionNames(ctx.lambda, pattern, ctx.deps.namePatternBudgetMs)));
  // One function named by its name and by its ARN (or matched by the pattern) is planned once.
  const seen = new Set<string>();
  return selected.filter((name) => {
    const key = parseFunctionArn(name)?.name ?? name;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export type ReadResult =
  | { readonly ok: true; readonly name: string; readonly snapshot: FunctionSnapshot }
  | { readonly ok: false; readonly name: string; readonly error: unknown };

/** Reads each function once no update of it is in progress (see readSettledFunction). */
/** Each function read (once no update of it is in progress), `concurrency` at a time; in the order given. */
export async function readFunctions(
  ctx: AwsContext,
  names: readonly string[],
  concurrency: number,
): Promise<ReadResult[]> {
  return mapWithLimit(names, concurrency, async (name): Promise<ReadResult> => {
    try {
      return { ok: true, name, snapshot: await readSettled(ctx, name) };
    } catch (error) {
      return { ok: false, name, error };
    }
  });
}

export function readSettled(ctx: AwsContext, name: string): Promise<FunctionSnapshot> {
  return readSettledFunction(ctx.lambda, name, ctx.deps.waiter, ctx.onWait);
}

/** A layer version ARN given with --layer-arn, with what it declares it is compatible with. */
export async function describeLayerArn(
  ctx: AwsContext,
  arn: string,
): Promise<{ readonly target: LayerTarget; readonly codeSha256: string | undefined }> {
  const got = await ctx.lambda.send(new GetLayerVersionByArnCommand({ Arn: arn }));
  const name = parseLayerVersionArn(arn)?.name ?? arn;
  const runtimes = got.CompatibleRuntimes ?? [];
  const flavor =
    parseLayerDescription(got.Description)?.flavor ??
    FLAVORS.find((f) => name.includes(`-${f}-`)) ??
    inferFlavor(runtimes);
  return {
    target: {
      arn,
      name,
      flavor,
      compatibleArchitectures: got.CompatibleArchitectures,
      compatibleRuntimes: got.CompatibleRuntimes,
    },
    codeSha256: got.Content?.CodeSha256,
  };
}

function inferFlavor(runtimes: readonly string[]): Flavor | undefined {
  for (const flavor of FLAVORS) {
    const expected = runtimesFor(flavor);
    if (runtimes.length === expected.length && expected.every((r) => runtimes.includes(r))) return flavor;
  }
  return undefined;
}

export function flavorArchKey(flavor: Flavor, arch: Arch): string {
  return `${flavor}/${arch}`;
}

/** A zip built for this run and, when a version of the layer already holds it, that version. */
export interface PreparedLayer {
  readonly request: PublishRequest;
  readonly reusable: LayerVersionInfo | undefined;
  /** Set once published (after confirmation), or at once when reused. */
  published: PublishedLayer | undefined;
}

/**
 * Builds the zips the functions need (one per flavor/arch) and looks for a version of each layer that
 * already holds it. Creates nothing in AWS: publishing waits for the confirmation (publishPrepared).
 */
export async function prepareLayers(
  ctx: AwsContext,
  source: Extract<LayerSource, { kind: 'publish' }>,
  needed: ReadonlyArray<{ readonly flavor: Flavor; readonly arch: Arch }>,
): Promise<Map<string, PreparedLayer>> {
  const wanted = new Map(needed.map((n) => [flavorArchKey(n.flavor, n.arch), n]));
  const prepared = new Map<string, PreparedLayer>();
  if (wanted.size === 0) return prepared;
  const arches = [...new Set(needed.map((n) => n.arch))];
  const flavors = [...new Set(needed.map((n) => n.flavor))];
  const zips = await ctx.deps.buildLayers({
    arches,
    flavors,
    onProgress: (message) => ctx.progress(message.endsWith('\n') ? message : `${message}\n`),
  });
  for (const zip of zips) {
    const key = flavorArchKey(zip.flavor, zip.arch);
    if (!wanted.has(key)) continue;
    const request: PublishRequest = {
      layerName: layerNameFor(source.baseName, zip.flavor, zip.arch),
      zip,
      compatibleRuntimes: runtimesFor(zip.flavor),
      description: layerDescription(source.version, zip.flavor, zip.arch),
      s3Bucket: source.s3Bucket,
    };
    const reusable = await findReusableLayerVersion(ctx.lambda, request);
    prepared.set(key, {
      request,
      reusable,
      published:
        reusable === undefined
          ? undefined
          : { zip, outcome: { ...reusable, action: 'reused', upload: 'none' }, grants: [] },
    });
  }
  return prepared;
}

/** After confirmation: publishes what no version holds yet, and grants access to every layer used. */
export async function publishPrepared(
  ctx: AwsContext,
  layer: PreparedLayer,
  grants: readonly LayerGrant[],
): Promise<PublishedLayer> {
  const outcome =
    layer.published?.outcome ??
    (await publishNewLayerVersion(ctx.lambda, ctx.getS3, layer.request, ctx.onUpload));
  const granted = await grantLayerAccess(ctx.lambda, outcome.layerName, outcome.version, grants);
  layer.published = { zip: layer.request.zip, outcome, grants: granted };
  return layer.published;
}

/** Placeholder shown in a plan where a version not yet published would go. */
export function unpublishedArn(layerName: string): string {
  return `${layerName}:<new version>`;
}

export function isUnpublishedArn(arn: string): boolean {
  return arn.endsWith(':<new version>');
}

/** The target for a function whose layer this run publishes (or would publish). */
export function preparedTarget(flavor: Flavor, arch: Arch, layer: PreparedLayer): LayerTarget {
  return {
    arn: layer.published?.outcome?.layerVersionArn ?? unpublishedArn(layer.request.layerName),
    name: layer.request.layerName,
    flavor,
    compatibleArchitectures: [arch],
    compatibleRuntimes: runtimesFor(flavor),
  };
}

/** Functions that will be refused whatever the layer need no build. */
export function needsNoLayer(fn: FunctionSnapshot): boolean {
  return fn.packageType === 'Image' || !(ARCHES as readonly string[]).includes(fn.architecture);
}

/** Errors after which the plan is stale: re-read the function and plan again. */
export const STALE_PLAN_ERRORS: readonly string[] = [
  'PreconditionFailedException',
  'ResourceConflictException',
];
/** How many times one function is planned and sent before giving up (someone keeps changing it). */
export const MAX_PLAN_ATTEMPTS = 4;
export const REPLAN_BACKOFF_BASE_MS = 1_000;

export interface StalePlanInfo {
  readonly functionName: string;
  readonly errorName: string;
  readonly attempt: number;
  readonly delayMs: number;
}

/**
 * Sends one plan's update; when Lambda says the plan is stale (the function changed, or an update
 * of it is in progress), waits, re-reads the settled function and plans again with `replan`, at most
 * MAX_PLAN_ATTEMPTS times. `onReplanned` gets each new plan (to show it when it differs).
 */
export async function applyWithReplan<P extends { readonly update: FunctionUpdate | undefined }>(
  ctx: AwsContext,
  first: P,
  functionName: string,
  replan: (snapshot: FunctionSnapshot) => Promise<P>,
  hooks: {
    readonly onStale: (info: StalePlanInfo) => void;
    readonly onReplanned: (plan: P) => void;
  },
): Promise<{ readonly plan: P; readonly applied: boolean }> {
  let plan = first;
  for (let attempt = 1; ; attempt++) {
    if (plan.update === undefined) return { plan, applied: false };
    try {
      await applyFunctionUpdate(ctx.lambda, plan.update, { waiter: ctx.deps.waiter });
      return { plan, applied: true };
    } catch (error) {
      const errorName = awsErrorName(error);
      if (!STALE_PLAN_ERRORS.includes(errorName) || attempt >= MAX_PLAN_ATTEMPTS) throw error;
      const delayMs = REPLAN_BACKOFF_BASE_MS * 2 ** (attempt - 1);
      hooks.onStale({ functionName, errorName, attempt, delayMs });
      await ctx.deps.sleep(delayMs);
      plan = await replan(await readSettled(ctx, functionName));
      hooks.onReplanned(plan);
    }
  }
}
