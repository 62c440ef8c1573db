import { parseFunctionArn } from './arn.js';

/** Where the region came from, so errors and `--json` output can say so. */
export type RegionSource = '--region' | 'function ARN' | 'config file' | 'AWS_REGION' | 'AWS_DEFAULT_REGION';

export type RegionResult =
  | { readonly ok: true; readonly region: string; readonly source: RegionSource }
  | { readonly ok: false; readonly problem: RegionProblem };

export type RegionProblem =
  | { readonly kind: 'missing' }
  | { readonly kind: 'arns-disagree'; readonly regions: readonly string[] }
  | { readonly kind: 'flag-disagrees-with-arn'; readonly flag: string; readonly arnRegion: string }
  | { readonly kind: 'not-a-region'; readonly region: string; readonly source: RegionSource };

/**
 * The shape of every AWS region name (`eu-west-1`, `us-gov-west-1`, `ap-southeast-4`, `cn-north-1`):
 * a typo (`europe`, `eu-west1`, an availability zone `eu-west-1a`) is refused before any call, instead
 * of failing later as an unreachable endpoint.
 */
const REGION_NAME = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

export function isRegionName(value: string): boolean {
  return REGION_NAME.test(value);
}

export interface RegionInputs {
  readonly flag: string | undefined;
  readonly configFile: string | undefined;
  /** Function names or ARNs given on the command line. */
  readonly functions: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * The one region every call goes to: `--region`, else the region of the function ARNs given, else the
 * config file, else AWS_REGION, else AWS_DEFAULT_REGION (which the SDK itself does not read).
 */
export function resolveRegion(inputs: RegionInputs): RegionResult {
  const result = findRegion(inputs);
  if (result.ok && !isRegionName(result.region)) {
    return { ok: false, problem: { kind: 'not-a-region', region: result.region, source: result.source } };
  }
  return result;
}

function findRegion(inputs: RegionInputs): RegionResult {
  const arnRegions = [
    ...new Set(inputs.functions.map((fn) => parseFunctionArn(fn)?.region).filter((r) => r !== undefined)),
  ];
  if (arnRegions.length > 1) return { ok: false, problem: { kind: 'arns-disagree', regions: arnRegions } };
  const arnRegion = arnRegions[0];
  const flag = nonEmpty(inputs.flag);
  if (flag !== undefined) {
    if (arnRegion !== undefined && arnRegion !== flag) {
      return { ok: false, problem: { kind: 'flag-disagrees-with-arn', flag, arnRegion } };
    }
    return { ok: true, region: flag, source: '--region' };
  }
  if (arnRegion !== undefined) return { ok: true, region: arnRegion, source: 'function ARN' };
  const candidates: ReadonlyArray<readonly [string | undefined, RegionSource]> = [
    [inputs.configFile, 'config file'],
    [inputs.env.AWS_REGION, 'AWS_REGION'],
    [inputs.env.AWS_DEFAULT_REGION, 'AWS_DEFAULT_REGION'],
  ];
  for (const [value, source] of candidates) {
    const region = nonEmpty(value);
    if (region !== undefined) return { ok: true, region, source };
  }
  return { ok: false, problem: { kind: 'missing' } };
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === '' ? undefined : trimmed;
}
