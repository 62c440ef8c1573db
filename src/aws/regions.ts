import { parseFunctionArn } from './arn.js';
import { isRegionName, type RegionProblem, resolveRegion } from './region.js';

export type RegionsResult =
  | { readonly ok: true; readonly regions: readonly string[] }
  | { readonly ok: false; readonly problem: RegionProblem };

/**
 * Every region a fleet command runs in: each `--region` (repeatable, comma-separated) and the region
 * of each function ARN given; with neither, the one default region (config file, AWS_REGION, ...).
 */
export function resolveRegions(inputs: {
  readonly flags: readonly string[];
  readonly functions: readonly string[];
  readonly configFile: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
}): RegionsResult {
  const flagged = inputs.flags.flatMap((value) => value.split(',')).map((value) => value.trim());
  const bad = flagged.find((value) => !isRegionName(value));
  if (bad !== undefined)
    return { ok: false, problem: { kind: 'not-a-region', region: bad, source: '--region' } };
  const fromArns = inputs.functions.map((fn) => parseFunctionArn(fn)?.region).filter((r) => r !== undefined);
  const regions = [...new Set([...flagged, ...fromArns])];
  if (regions.length > 0) return { ok: true, regions };
  const single = resolveRegion({
    flag: undefined,
    configFile: inputs.configFile,
    functions: [],
    env: inputs.env,
  });
  return single.ok ? { ok: true, regions: [single.region] } : { ok: false, problem: single.problem };
}
