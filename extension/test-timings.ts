/**
 * LOKI_LAMBDA_TEST_TIMINGS: an undocumented, test-only JSON object of durations in milliseconds that
 * shrinks the extension's waits (push budgets, cooldowns, the secret read timeout...), so a test of an
 * outage takes milliseconds instead of minutes. Only main.ts reads the variable. Each table of
 * defaults takes the keys it knows; anything else, and any value that is not a non-negative number,
 * is ignored, so the variable can never break a function.
 */
export type TestTimings = Readonly<Record<string, number>>;

/** The valid overrides of the variable's value; none when it is unset or not a JSON object. */
export function parseTestTimings(json: string | undefined): TestTimings {
  if (json === undefined || json === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
  const valid: Record<string, number> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value === 'number' && Number.isFinite(value) && value >= 0) valid[key] = value;
  }
  return valid;
}

/** `defaults` with the overrides of its own keys; `defaults` itself (what users get) when there are none. */
export function withTestTimings<T extends object>(defaults: T, overrides: TestTimings): T {
  const own = Object.keys(overrides).filter((key) => Object.hasOwn(defaults, key));
  if (own.length === 0) return defaults;
  const merged = { ...defaults } as Record<string, unknown>;
  for (const key of own) merged[key] = overrides[key];
  return Object.freeze(merged) as T;
}
