import { parseFunctionArn } from '../aws/arn.js';
import type { AwsDeps } from '../aws/deps.js';
import { resolveRegion } from '../aws/region.js';
import { firstDefined, loadConfigFile } from '../config-file.js';
import type { CliIo } from '../io.js';
import { registerFunctionSecrets } from '../redacting-io.js';
import { renderAwsError, renderRegionProblem } from '../render/aws-errors.js';

export interface AwsLookupOptions {
  readonly region?: string;
  readonly profile?: string;
  readonly config?: string;
}

export type FunctionEnvResult =
  | {
      readonly ok: true;
      readonly env: Readonly<Record<string, string>>;
      readonly region: string;
      /** MemorySize in MB: the extension's limits follow it. */
      readonly memorySizeMb: number | undefined;
      readonly arn: string;
      /** The execution role: check says whether it may read a Loki credential kept in AWS. */
      readonly role: string | undefined;
      readonly profile: string | undefined;
    }
  | { readonly ok: false; readonly reason: string };

/** The label value the extension gives a function: its name, also when the user passed an ARN. */
export function functionNameOf(nameOrArn: string): string {
  return parseFunctionArn(nameOrArn)?.name ?? nameOrArn;
}

/** Reads a function's environment with GetFunctionConfiguration; a failure is a reason, not an exception. */
export async function readFunctionEnv(
  io: CliIo,
  deps: AwsDeps,
  options: AwsLookupOptions,
  nameOrArn: string,
): Promise<FunctionEnvResult> {
  const loaded = await loadConfigFile(io.cwd, options.config);
  if (!loaded.ok) return { ok: false, reason: loaded.problems.join('; ') };
  const region = resolveRegion({
    flag: options.region,
    configFile: loaded.values.region,
    functions: [nameOrArn],
    env: io.env,
  });
  if (!region.ok) return { ok: false, reason: renderRegionProblem(region.problem).trim() };
  try {
    // Loaded here: tail and check start without the AWS SDK when they need no function settings.
    const { readFunction } = await import('../aws/functions.js');
    const profile = firstDefined(options.profile, loaded.values.profile);
    const lambda = await deps.createLambdaClient(region.region, profile);
    const snapshot = await readFunction(lambda, nameOrArn);
    registerFunctionSecrets(io.secrets, snapshot.env);
    return {
      ok: true,
      env: snapshot.env,
      region: region.region,
      memorySizeMb: snapshot.memorySizeMb,
      arn: snapshot.arn,
      role: snapshot.role,
      profile,
    };
  } catch (error) {
    return { ok: false, reason: renderAwsError(error) };
  }
}
