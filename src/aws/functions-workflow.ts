import { GetLayerVersionByArnCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import { ARCHES, type Arch, FLAVORS, type Flavor, runtimesFor, SLIM_RUNTIMES } from '../layer/targets.js';
import { parseLayerVersionArn } from './arn.js';
import { type FunctionPlan, type LayerTarget, planAttach, planDetach } from './attach-plan.js';
import type { AwsDeps } from './deps.js';
import { applyFunctionUpdate, type FunctionSnapshot, listFunctionNames, readFunction } from './functions.js';
import {
  canReuse,
  findNewestLayerVersion,
  type GrantOutcome,
  grantLayerAccess,
  type LayerGrant,
  type LayerZip,
  type PublishOutcome,
  type PublishRequest,
  publishLayerZip,
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

/** The flavor a function needs: its own Node when it has one (slim), else a bundled Node (standalone). */
export function flavorForRuntime(runtime: string | undefined): Flavor {
  return runtime !== undefined && (SLIM_RUNTIMES as readonly string[]).includes(runtime)
    ? 'slim'
    : 'standalone';
}

export function layerDescription(version: string, flavor: Flavor, arch: Arch): string {
  return `loki-lambda ${version}: ships Lambda logs to Grafana Loki (${flavor}, ${arch})`;
}

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
  /** Created on first use: most runs never stage a zip in S3. */
  readonly getS3: () => Promise<S3Client>;
  readonly deps: AwsDeps;
  /** Progress for people (stderr): builds, retries, waits. */
  readonly progress: (message: string) => void;
}

/** The positional functions and the regex matches, each once, in the order given. */
export async function selectFunctions(
  ctx: AwsContext,
  names: readonly string[],
  pattern: RegExp | undefined,
): Promise<string[]> {
  const selected = [...names];
  if (pattern !== undefined) selected.push(...(await listFunctionNames(ctx.lambda, pattern)));
  return [...new Set(selected)];
}

export type ReadResult =
  | { readonly ok: true; readonly name: string; readonly snapshot: FunctionSnapshot }
  | { readonly ok: false; readonly name: string; readonly error: unknown };

export async function readFunctions(ctx: AwsContext, names: readonly string[]): Promise<ReadResult[]> {
  const results: ReadResult[] = [];
  for (const name of names) {
    try {
      results.push({ ok: true, name, snapshot: await readFunction(ctx.lambda, name) });
    } catch (error) {
      results.push({ ok: false, name, error });
    }
  }
  return results;
}

/** A layer version ARN given with --layer-arn, with what it declares it is compatible with. */
export async function describeLayerArn(ctx: AwsContext, arn: string): Promise<LayerTarget> {
  const got = await ctx.lambda.send(new GetLayerVersionByArnCommand({ Arn: arn }));
  const name = parseLayerVersionArn(arn)?.name ?? arn;
  const runtimes = got.CompatibleRuntimes ?? [];
  const flavor = FLAVORS.find((f) => name.includes(`-${f}-`)) ?? inferFlavor(runtimes);
  return {
    arn,
    name,
    flavor,
    compatibleArchitectures: got.CompatibleArchitectures,
    compatibleRuntimes: got.CompatibleRuntimes,
  };
}

function inferFlavor(runtimes: readonly string[]): Flavor | undefined {
  for (const flavor of FLAVORS) {
    const expected = runtimesFor(flavor);
    if (runtimes.length === expected.length && expected.every((r) => runtimes.includes(r))) return flavor;
  }
  return undefined;
}

/**
 * Builds the zips the functions need (one per flavor/arch) and publishes each, or reuses the newest
 * version when it is identical. A dry run builds and looks but publishes nothing.
 */
export async function ensureLayers(
  ctx: AwsContext,
  source: Extract<LayerSource, { kind: 'publish' }>,
  needed: ReadonlyArray<{ readonly flavor: Flavor; readonly arch: Arch }>,
  dryRun: boolean,
): Promise<Map<string, PublishedLayer>> {
  const key = (flavor: Flavor, arch: Arch) => `${flavor}/${arch}`;
  const wanted = new Map(needed.map((n) => [key(n.flavor, n.arch), n]));
  const published = new Map<string, PublishedLayer>();
  if (wanted.size === 0) return published;
  const arches = [...new Set(needed.map((n) => n.arch))];
  const flavors = [...new Set(needed.map((n) => n.flavor))];
  const zips = await ctx.deps.buildLayers({ arches, flavors, onProgress: ctx.progress });
  for (const zip of zips) {
    if (!wanted.has(key(zip.flavor, zip.arch))) continue;
    const request: PublishRequest = {
      layerName: layerNameFor(source.baseName, zip.flavor, zip.arch),
      zip,
      compatibleRuntimes: runtimesFor(zip.flavor),
      description: layerDescription(source.version, zip.flavor, zip.arch),
      s3Bucket: source.s3Bucket,
    };
    if (dryRun) {
      const newest = await findNewestLayerVersion(ctx.lambda, request.layerName);
      const outcome: PublishOutcome | undefined =
        newest !== undefined && canReuse(newest, request)
          ? { ...newest, action: 'reused', upload: 'none' }
          : undefined;
      published.set(key(zip.flavor, zip.arch), { zip, outcome, grants: [] });
      continue;
    }
    const outcome = await publishLayerZip(ctx.lambda, ctx.getS3, request);
    const grants = await grantLayerAccess(ctx.lambda, outcome.layerName, outcome.version, source.grants);
    published.set(key(zip.flavor, zip.arch), { zip, outcome, grants });
  }
  return published;
}

/** Placeholder shown in a dry-run plan where a version not yet published would go. */
export function unpublishedArn(layerName: string): string {
  return `${layerName}:<new version>`;
}

export interface PlanInputs {
  readonly mode: 'attach' | 'detach';
  readonly baseName: string;
  readonly lokiEnv: Readonly<Record<string, string>>;
}

/** Attach plans for functions whose layer is known per function (given ARN or published by flavor/arch). */
export function planFunctions(
  snapshots: readonly FunctionSnapshot[],
  inputs: PlanInputs,
  layerFor: (fn: FunctionSnapshot) => LayerTarget,
): FunctionPlan[] {
  return snapshots.map((fn) => {
    if (inputs.mode === 'detach') return planDetach(fn, ourLayerNames(inputs.baseName));
    const layer = layerFor(fn);
    return planAttach(fn, layer, ourLayerNames(inputs.baseName, [layer.name]), inputs.lokiEnv);
  });
}

/** The target for a function whose layer this run publishes (or would publish). */
export function publishedTarget(
  baseName: string,
  flavor: Flavor,
  arch: Arch,
  layer: PublishedLayer | undefined,
): LayerTarget {
  const name = layerNameFor(baseName, flavor, arch);
  return {
    arn: layer?.outcome?.layerVersionArn ?? unpublishedArn(name),
    name,
    flavor,
    compatibleArchitectures: [arch],
    compatibleRuntimes: runtimesFor(flavor),
  };
}

export type ApplyResult =
  | { readonly ok: true; readonly functionName: string }
  | { readonly ok: false; readonly functionName: string; readonly error: unknown };

/** Applies each plan in turn, retrying conflicts and throttling, and waits for each update to finish. */
export async function applyPlans(
  ctx: AwsContext,
  plans: readonly FunctionPlan[],
  onRetry: (functionName: string, info: { attempt: number; delayMs: number; errorName: string }) => void,
): Promise<ApplyResult[]> {
  const results: ApplyResult[] = [];
  for (const plan of plans) {
    if (plan.update === undefined) continue;
    try {
      await applyFunctionUpdate(ctx.lambda, plan.update, {
        sleep: ctx.deps.sleep,
        waiter: ctx.deps.waiter,
        onRetry: (info) => onRetry(plan.functionName, info),
      });
      results.push({ ok: true, functionName: plan.functionName });
    } catch (error) {
      results.push({ ok: false, functionName: plan.functionName, error });
    }
  }
  return results;
}
