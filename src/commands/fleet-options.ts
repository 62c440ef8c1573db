import type { Command } from 'commander';
import { parseRegex } from './aws-options.js';
import { collect } from './choices.js';

/** How a fleet is selected and rolled out (beyond names and --functions-regex). */
export interface FleetOptions {
  readonly exclude: RegExp | undefined;
  readonly tags: ReadonlyArray<readonly [string, string]>;
  /** Every function of the region. */
  readonly all: boolean;
  /** Functions updated at once. */
  readonly concurrency: number;
  /** Publish a function version after the update (and move `alias` to it). */
  readonly publishVersion: boolean;
  readonly alias: string | undefined;
}

/**
 * Updates at once by default. Lambda's control plane allows about 15 requests per second per region
 * (UpdateFunctionConfiguration, GetFunctionConfiguration, …); each update makes three or four over one
 * to three seconds, and the SDK's retry absorbs the throttling of a burst.
 */
export const UPDATE_CONCURRENCY_DEFAULT = 10;
export const CONCURRENCY_MAX = 50;

export const NO_FLEET_OPTIONS: FleetOptions = {
  exclude: undefined,
  tags: [],
  all: false,
  concurrency: UPDATE_CONCURRENCY_DEFAULT,
  publishVersion: false,
  alias: undefined,
};

export interface FleetFlags {
  readonly tag?: string[];
  readonly excludeRegex?: string;
  readonly all?: boolean;
  readonly concurrency?: string;
  readonly publishVersion?: boolean;
  readonly alias?: string;
}

/** `--tag`, `--exclude-regex`, `--all`: for commands that take many functions. */
export function addSelectionOptions(command: Command): Command {
  return command
    .option('--tag <key=value>', 'only functions with this tag (repeatable: all must match)', collect)
    .option('--exclude-regex <regex>', 'leave out functions whose name matches')
    .option('--all', 'every function in the region (the prompt says how many)');
}

/** `--concurrency`, `--publish-version`, `--alias`: how the updates are applied. */
export function addRolloutOptions(command: Command): Command {
  return command
    .option('--concurrency <n>', `functions updated at once (default: ${UPDATE_CONCURRENCY_DEFAULT})`)
    .option(
      '--publish-version',
      'publish a function version after the update (aliases keep theirs otherwise)',
    )
    .option('--alias <name>', 'with --publish-version: move this alias to the new version');
}

/** `--concurrency`: a whole number from 1 to CONCURRENCY_MAX, else `fallback`. */
export function parseConcurrency(value: string | undefined, fallback: number, problems: string[]): number {
  const concurrency = Number(value ?? fallback);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > CONCURRENCY_MAX)
    problems.push(`--concurrency must be a whole number from 1 to ${CONCURRENCY_MAX}; got ${value}`);
  return concurrency;
}

export function fleetOptionsFrom(flags: FleetFlags, problems: string[]): FleetOptions {
  const concurrency = parseConcurrency(flags.concurrency, UPDATE_CONCURRENCY_DEFAULT, problems);
  if (flags.alias !== undefined && !flags.publishVersion)
    problems.push('--alias moves an alias to the version --publish-version publishes: add --publish-version');
  return {
    exclude: parseRegex(flags.excludeRegex, problems, '--exclude-regex'),
    tags: parseTags(flags.tag ?? [], problems),
    all: flags.all ?? false,
    concurrency,
    publishVersion: flags.publishVersion ?? false,
    alias: flags.alias,
  };
}

/** Parses `--tag key=value`; each bad one is a problem naming the expected form. */
export function parseTags(values: readonly string[], problems: string[]): Array<[string, string]> {
  const tags: Array<[string, string]> = [];
  for (const value of values) {
    const at = value.indexOf('=');
    if (at <= 0) problems.push(`--tag takes key=value (e.g. --tag team=payments); got ${value}`);
    else tags.push([value.slice(0, at), value.slice(at + 1)]);
  }
  return tags;
}
