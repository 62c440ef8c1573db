import {
  GetFunctionConfigurationCommand,
  type LambdaClient,
  paginateListFunctions,
  UpdateFunctionConfigurationCommand,
  waitForFunctionUpdatedV2,
  waitUntilFunctionUpdatedV2,
} from '@aws-sdk/client-lambda';
import { errorMessage, FunctionUpdateFailedError } from './errors.js';
import { namesMatching } from './name-pattern.js';
import type { WaiterTiming } from './waiter-timing.js';

/** What the plan needs to know about a function, read with GetFunctionConfiguration. */
export interface FunctionSnapshot {
  /** The name or ARN the user gave (or ListFunctions returned); used for every later call. */
  readonly name: string;
  readonly arn: string;
  readonly runtime: string | undefined;
  readonly architecture: string;
  readonly packageType: string;
  readonly layers: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly revisionId: string | undefined;
  /** MemorySize in MB: the extension's limits follow it. */
  readonly memorySizeMb?: number | undefined;
  /** `InProgress` while Lambda applies an update; a plan made then is stale once it completes. */
  readonly lastUpdateStatus: string | undefined;
  /** Lambda Managed Instances: the function's capacity provider (the extension adapts at run time). */
  readonly capacityProviderArn?: string | undefined;
  /** The execution role's ARN: it must be allowed to read a Loki credential kept in AWS. */
  readonly role?: string | undefined;
}

/** The UpdateFunctionConfiguration request of a plan: only what changes, guarded by RevisionId. */
export interface FunctionUpdate {
  readonly functionName: string;
  readonly revisionId: string | undefined;
  readonly layers?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
}

export async function readFunction(lambda: LambdaClient, name: string): Promise<FunctionSnapshot> {
  const config = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name }));
  return {
    name,
    arn: config.FunctionArn ?? name,
    runtime: config.Runtime,
    architecture: config.Architectures?.[0] ?? 'x86_64',
    packageType: config.PackageType ?? 'Zip',
    layers: (config.Layers ?? []).map((layer) => layer.Arn).filter((arn) => arn !== undefined),
    env: { ...(config.Environment?.Variables ?? {}) },
    revisionId: config.RevisionId,
    memorySizeMb: config.MemorySize,
    lastUpdateStatus: config.LastUpdateStatus,
    capacityProviderArn:
      config.CapacityProviderConfig?.LambdaManagedInstancesCapacityProviderConfig?.CapacityProviderArn,
    role: config.Role,
  };
}

/** Reads stopped after this many waits: a function someone updates without pause is not planned. */
export const SETTLE_MAX_WAITS = 3;

/**
 * Reads a function once no update of it is in progress. Planning from an `InProgress` state is
 * planning from a RevisionId that changes when that update completes, so every later update with it
 * would fail. Waits with the SDK waiter (GetFunction until LastUpdateStatus is no longer InProgress);
 * a Failed last update is settled too (the function can be updated again).
 */
export async function readSettledFunction(
  lambda: LambdaClient,
  name: string,
  waiter: WaiterTiming,
  onWait: (functionName: string) => void,
): Promise<FunctionSnapshot> {
  let snapshot = await readFunction(lambda, name);
  for (let waits = 0; snapshot.lastUpdateStatus === 'InProgress' && waits < SETTLE_MAX_WAITS; waits++) {
    onWait(name);
    await waitForFunctionUpdatedV2(
      {
        client: lambda,
        minDelay: waiter.minDelaySeconds,
        maxDelay: waiter.maxDelaySeconds,
        maxWaitTime: waiter.maxWaitSeconds,
      },
      { FunctionName: name },
    );
    snapshot = await readFunction(lambda, name);
  }
  if (snapshot.lastUpdateStatus === 'InProgress') {
    throw new FunctionUpdateFailedError(name, 'another update of it is still in progress; try again later');
  }
  return snapshot;
}

/** Names of every function in the region whose name matches, across all ListFunctions pages. */
export async function listFunctionNames(
  lambda: LambdaClient,
  pattern: RegExp,
  budgetMs: number,
): Promise<string[]> {
  const names: string[] = [];
  for await (const page of paginateListFunctions({ client: lambda }, {})) {
    for (const fn of page.Functions ?? []) if (fn.FunctionName !== undefined) names.push(fn.FunctionName);
  }
  return namesMatching(pattern, names, budgetMs);
}

export interface ApplyOptions {
  readonly waiter: WaiterTiming;
}

/**
 * Sends the update, guarded by the RevisionId it was planned from, then waits until Lambda reports
 * LastUpdateStatus Successful. A conflict (ResourceConflictException: an update in progress;
 * PreconditionFailedException: the function changed) is the caller's to handle: the plan is stale, so
 * sending it again cannot succeed; the caller re-reads and re-plans.
 */
export async function applyFunctionUpdate(
  lambda: LambdaClient,
  update: FunctionUpdate,
  options: ApplyOptions,
): Promise<void> {
  await lambda.send(
    new UpdateFunctionConfigurationCommand({
      FunctionName: update.functionName,
      RevisionId: update.revisionId,
      ...(update.layers !== undefined ? { Layers: [...update.layers] } : {}),
      ...(update.env !== undefined ? { Environment: { Variables: { ...update.env } } } : {}),
    }),
  );
  try {
    await waitUntilFunctionUpdatedV2(
      {
        client: lambda,
        minDelay: options.waiter.minDelaySeconds,
        maxDelay: options.waiter.maxDelaySeconds,
        maxWaitTime: options.waiter.maxWaitSeconds,
      },
      { FunctionName: update.functionName },
    );
  } catch (error) {
    throw new FunctionUpdateFailedError(update.functionName, waiterReason(error), { cause: error });
  }
}

/** The SDK waiter throws an Error whose message is the JSON of its last result; dig out Lambda's reason. */
function waiterReason(error: unknown): string {
  const message = errorMessage(error);
  let result: { state?: unknown; reason?: unknown };
  try {
    result = JSON.parse(message) as { state?: unknown; reason?: unknown };
  } catch {
    return message;
  }
  if (result.state === 'TIMEOUT') return 'Lambda did not finish the update in time';
  const reason = result.reason as
    | { Configuration?: { LastUpdateStatusReason?: string; LastUpdateStatus?: string }; message?: string }
    | string
    | undefined;
  if (typeof reason === 'string') return reason;
  const config = reason?.Configuration;
  if (config?.LastUpdateStatusReason) return config.LastUpdateStatusReason;
  if (reason?.message) return reason.message;
  return `LastUpdateStatus is ${config?.LastUpdateStatus ?? String(result.state ?? 'unknown')}`;
}
