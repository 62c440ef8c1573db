import { runInNewContext } from 'node:vm';

/**
 * How long --functions-regex may take over every function name of the region. A sane pattern needs
 * microseconds per name; a catastrophic one (`^(a+)+$` on `aaaa…!`) would need 2^64 steps on a
 * 64-character name.
 */
export const NAME_PATTERN_BUDGET_MS = 1_000;

/** The pattern did not finish in time: it backtracks exponentially on some name. */
export class NamePatternTooSlowError extends Error {
  constructor(
    readonly source: string,
    readonly budgetMs: number,
  ) {
    super(
      `--functions-regex ${source} did not finish matching the function names within ${budgetMs / 1000} s: ` +
        'it backtracks exponentially (nested or overlapping repetition such as (a+)+ or (a|a)*); simplify it, e.g. ^orders-',
    );
    this.name = 'NamePatternTooSlowError';
  }
}

/**
 * The names the pattern matches, under a hard time limit. JavaScript's regex engine backtracks, and
 * neither a safe engine (RE2 is a native addon, outside our dependencies) nor a static check fits:
 * rejecting nested quantifiers misses other exponential shapes ((a|a)*, (a|aa)*b, backreferences) and
 * refuses harmless patterns. node:vm's timeout interrupts the engine mid-backtracking, whatever the
 * pattern, so the run ends with a clear message instead of hanging.
 */
export function namesMatching(
  pattern: RegExp,
  names: readonly string[],
  budgetMs = NAME_PATTERN_BUDGET_MS,
): string[] {
  try {
    return runInNewContext(
      'names.filter((name) => pattern.test(name))',
      { names, pattern },
      { timeout: budgetMs },
    );
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
      throw new NamePatternTooSlowError(pattern.source, budgetMs);
    }
    throw error;
  }
}
