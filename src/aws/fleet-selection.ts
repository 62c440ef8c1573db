import {
  GetFunctionConfigurationCommand,
  type LambdaClient,
  ListTagsCommand,
  paginateListFunctions,
} from '@aws-sdk/client-lambda';
import { parseFunctionArn } from './arn.js';
import { mapWithLimit } from './concurrency.js';
import { namesMatching } from './name-pattern.js';

/** Which functions of a region a fleet command works on. */
export interface FleetSelection {
  /** Names or ARNs given (ARNs of other regions are not this region's). */
  readonly names: readonly string[];
  readonly pattern: RegExp | undefined;
  readonly exclude: RegExp | undefined;
  /** `key=value` pairs that must all be on the function. */
  readonly tags: ReadonlyArray<readonly [string, string]>;
  /** Every function of the region (also when nothing else selects). */
  readonly all: boolean;
}

export interface SelectedFunction {
  /** What later calls use: the name given, or the name ListFunctions returned. */
  readonly name: string;
  readonly arn: string | undefined;
}

/** The functions of one region a selection names, each once, with `--exclude-regex` and tags applied. */
export async function selectRegionFunctions(
  lambda: LambdaClient,
  region: string,
  selection: FleetSelection,
  concurrency: number,
  patternBudgetMs: number,
): Promise<SelectedFunction[]> {
  const selected = new Map<string, SelectedFunction>();
  for (const given of selection.names) {
    const arn = parseFunctionArn(given);
    if (arn !== undefined && arn.region !== region) continue;
    const name = arn?.name ?? given;
    if (!selected.has(name)) selected.set(name, { name: given, arn: arn === undefined ? undefined : given });
  }
  const listAll = selection.all || selection.pattern !== undefined || selection.names.length === 0;
  if (listAll) {
    const listed = new Map<string, string | undefined>();
    for await (const page of paginateListFunctions({ client: lambda }, {})) {
      for (const fn of page.Functions ?? []) {
        if (fn.FunctionName !== undefined) listed.set(fn.FunctionName, fn.FunctionArn);
      }
    }
    // Under the time limit of name-pattern.ts: a pattern that backtracks exponentially cannot hang us.
    const matching =
      selection.all || selection.pattern === undefined
        ? [...listed.keys()]
        : namesMatching(selection.pattern, [...listed.keys()], patternBudgetMs);
    for (const name of matching) {
      if (!selected.has(name)) selected.set(name, { name, arn: listed.get(name) });
    }
  }
  const excluded = new Set(
    selection.exclude === undefined
      ? []
      : namesMatching(selection.exclude, [...selected.keys()], patternBudgetMs),
  );
  let functions = [...selected.entries()].filter(([name]) => !excluded.has(name)).map(([, fn]) => fn);
  if (selection.tags.length > 0) {
    const keep = await mapWithLimit(functions, concurrency, async (fn) => {
      const arn = fn.arn ?? (await arnOf(lambda, fn.name));
      const { Tags = {} } = await lambda.send(new ListTagsCommand({ Resource: arn }));
      return selection.tags.every(([key, value]) => Tags[key] === value);
    });
    functions = functions.filter((_, index) => keep[index]);
  }
  return functions;
}

async function arnOf(lambda: LambdaClient, name: string): Promise<string> {
  const config = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name }));
  return config.FunctionArn ?? name;
}
