import { parseFunctionArn } from './arn.js';

/** Where the region came from, so errors and `--json` output can say so. */
export type RegionSource = '--region' | 'function ARN' | 'config file' | 'AWS_REGION' | 'AWS_DEFAULT_REGION';

export type RegionResult =
  | { readonly ok: true; readonly region: string; readonly source: RegionSource }
  | { readonly ok: false; readonly problem: RegionProblem };

export type RegionProblem =
  | { readonly kind: 'missing' }
  | { readonly kind: 'arns-disagree'; readonly regions: readonly string[] }
  | { readonly kind: 'flag-disagrees-with-arn'; readonly flag: string; readonly arnRegion: string };

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
