import type { AwsDeps } from '../aws/deps.js';
import type { FunctionStatus } from '../aws/fleet-status.js';
import { resolveRegions } from '../aws/regions.js';
import { firstDefined, loadConfigFile } from '../config-file.js';
import { type CliIo, ExitCode } from '../io.js';
import { LAYER_NAME_DEFAULT } from '../layer/targets.js';
import { renderAwsError, renderRegionProblem } from '../render/aws-errors.js';
import { createOutput } from '../render/output.js';
import {
  FAIL_ON_CHOICES,
  failedConditions,
  renderFailOn,
  renderStatus,
  summarize,
} from '../render/status.js';
import { parseRegex } from './aws-options.js';
import { collect, parseChoices } from './choices.js';
import { parseConcurrency, parseTags } from './fleet-options.js';
import type { RegisterCommand } from './register.js';

interface StatusOptions {
  readonly region?: string[];
  readonly profile?: string;
  readonly config?: string;
  readonly json?: boolean;
  readonly functionsRegex?: string;
  readonly excludeRegex?: string;
  readonly tag?: string[];
  readonly layerName?: string;
  readonly failOn?: string[];
  readonly concurrency?: string;
}

/** Reads at once per region: well under Lambda's control-plane rate (GetFunctionConfiguration ~15/s). */
export const STATUS_CONCURRENCY_DEFAULT = 8;

export const registerStatusCommand: RegisterCommand<[AwsDeps]> = (program, io, setExitCode, deps) => {
  program
    .command('status')
    .description('one line per function: instrumented or not, layer version, outdated, settings valid')
    .argument('[functions...]', 'function names or ARNs (default: every function in the region(s))')
    .option('--region <regions>', 'region(s) to look in (repeatable or comma-separated)', collect)
    .option('--functions-regex <regex>', 'only functions whose name matches')
    .option('--exclude-regex <regex>', 'leave out functions whose name matches')
    .option('--tag <key=value>', 'only functions with this tag (repeatable: all must match)', collect)
    .option('--layer-name <name>', `base name of our layer (default: ${LAYER_NAME_DEFAULT})`)
    .option('--fail-on <conditions>', `exit 1 when any function is ${FAIL_ON_CHOICES.join(', ')}`, collect)
    .option('--concurrency <n>', `functions read at once per region (default: ${STATUS_CONCURRENCY_DEFAULT})`)
    .option('--profile <name>', 'AWS profile from ~/.aws/config (default: AWS_PROFILE or the default chain)')
    .option('--config <file>', 'settings file (default: ./loki-lambda.config.json when present)')
    .option('--json', 'print one JSON document on stdout (text goes to stderr)')
    .action(async (functions: string[], options: StatusOptions) => {
      setExitCode(await statusCommand(io, functions, options, deps));
    });
};

async function statusCommand(
  io: CliIo,
  functions: readonly string[],
  options: StatusOptions,
  deps: AwsDeps,
): Promise<number> {
  const out = createOutput(io, 'status', options.json ?? false);
  const problems: string[] = [];
  const failOn = parseChoices('--fail-on', options.failOn, FAIL_ON_CHOICES, problems) ?? [];
  const concurrency = parseConcurrency(options.concurrency, STATUS_CONCURRENCY_DEFAULT, problems);
  const loaded = await loadConfigFile(io.cwd, options.config);
  if (!loaded.ok) problems.push(...loaded.problems);
  const file = loaded.ok ? loaded.values : {};
  const pattern = parseRegex(firstDefined(options.functionsRegex, file.functionsRegex), problems);
  const exclude = parseRegex(options.excludeRegex, problems, '--exclude-regex');
  const tags = parseTags(options.tag ?? [], problems);
  const names = functions.length > 0 ? functions : (file.functions ?? []);
  const regions = resolveRegions({
    flags: options.region ?? [],
    functions: names,
    configFile: file.region,
    env: io.env,
  });
  if (!regions.ok) {
    problems.push(renderRegionProblem(regions.problem).trimEnd());
  }
  if (problems.length > 0 || !regions.ok) {
    for (const problem of problems) out.error(problem);
    return ExitCode.usage;
  }

  // Loaded here, with the AWS SDK, so that `--help` and the other commands start without it.
  const [{ selectRegionFunctions }, { statusOf, unreadableStatus, NewestVersions }, { readFunction }] =
    await Promise.all([
      import('../aws/fleet-selection.js'),
      import('../aws/fleet-status.js'),
      import('../aws/functions.js'),
    ]);
  const { LayerIdentities } = await import('../aws/layer-identity.js');
  const { ourLayerNames } = await import('../aws/functions-workflow.js');
  const { mapWithLimit } = await import('../aws/concurrency.js');
  const baseName = firstDefined(options.layerName, file.layerName) ?? LAYER_NAME_DEFAULT;
  const profile = firstDefined(options.profile, file.profile);
  // Every region is listed at once; then all their functions are read within one --concurrency.
  const listed = await Promise.all(
    regions.regions.map(async (region) => {
      try {
        const lambda = await deps.createLambdaClient(region, profile);
        const selected = await selectRegionFunctions(
          lambda,
          region,
          { names, pattern, exclude, tags, all: false },
          concurrency,
          deps.namePatternBudgetMs,
        );
        const identities = new LayerIdentities(lambda, ourLayerNames(baseName));
        const newest = new NewestVersions(lambda);
        return {
          ok: true as const,
          functions: selected.map((fn) => ({ region, fn, lambda, identities, newest })),
        };
      } catch (error) {
        return {
          ok: false as const,
          message: `cannot list the functions of ${region}: ${renderAwsError(error).trimEnd()}`,
        };
      }
    }),
  );
  let failedRegions = 0;
  for (const region of listed) {
    if (!region.ok) {
      failedRegions++;
      out.error(region.message);
    }
  }
  const statuses: FunctionStatus[] = await mapWithLimit(
    listed.flatMap((region) => (region.ok ? region.functions : [])),
    concurrency,
    async ({ region, fn, lambda, identities, newest }) => {
      try {
        return await statusOf(region, await readFunction(lambda, fn.name), identities, newest);
      } catch (error) {
        return unreadableStatus(region, fn.name, renderAwsError(error).trimEnd());
      }
    },
  );

  const summary = summarize(statuses);
  const failed = failedConditions(summary, failOn);
  if (out.json) {
    out.document({ regions: regions.regions, functions: statuses, summary, failedOn: failed });
  } else {
    out.human(renderStatus(statuses, summary));
  }
  if (failed.length > 0) out.error(renderFailOn(failed, summary));
  return failed.length > 0 || summary.unreadable > 0 || failedRegions > 0 ? ExitCode.failure : ExitCode.ok;
}
