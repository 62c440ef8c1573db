import type { FunctionPlan, LayerTarget } from '../aws/attach-plan.js';
import type { FunctionSnapshot } from '../aws/functions.js';
import {
  type AwsContext,
  applyPlans,
  describeLayerArn,
  ensureLayers,
  flavorForRuntime,
  type LayerSource,
  type PublishedLayer,
  planFunctions,
  publishedTarget,
  readFunctions,
  selectFunctions,
} from '../aws/functions-workflow.js';
import { ExitCode } from '../io.js';
import { AMAZON_LINUX_2_RUNTIMES, ARCHES, type Arch } from '../layer/targets.js';
import { renderAwsError } from '../render/aws-errors.js';
import {
  type FunctionOutcome,
  planToJson,
  renderOutcomeLine,
  renderPlan,
  renderRetry,
  renderSummary,
} from '../render/functions.js';
import type { Output } from '../render/output.js';
import { publishToJson, renderGrant, renderPublished, renderWouldPublish } from '../render/publish.js';

export interface FunctionsRequest {
  readonly mode: 'attach' | 'detach';
  readonly names: readonly string[];
  readonly pattern: RegExp | undefined;
  readonly baseName: string;
  /** Undefined for detach. */
  readonly source: LayerSource | undefined;
  readonly lokiEnv: Readonly<Record<string, string>>;
  readonly dryRun: boolean;
  readonly yes: boolean;
}

/** Select → read → (publish) → plan → show → confirm → apply → report, for attach, detach and deploy. */
export async function runFunctions(ctx: AwsContext, out: Output, request: FunctionsRequest): Promise<number> {
  const outcomes = new Map<string, FunctionOutcome>();
  const plans: FunctionPlan[] = [];
  const layersJson: unknown[] = [];
  const finish = (exitCode: number, error?: string): number => {
    const list = [...outcomes.values()];
    if (out.json) {
      out.document({
        dryRun: request.dryRun,
        layers: layersJson,
        functions: list.map((outcome) => {
          const plan = plans.find((p) => p.functionName === outcome.functionName);
          return {
            ...(plan !== undefined ? planToJson(plan) : { function: outcome.functionName }),
            outcome: outcome.status,
            ...(outcome.status === 'failed' ? { error: outcome.message } : {}),
          };
        }),
        summary: Object.fromEntries(
          (['updated', 'unchanged', 'planned', 'refused', 'failed'] as const).map((status) => [
            status,
            list.filter((o) => o.status === status).length,
          ]),
        ),
        ...(error !== undefined ? { error } : {}),
      });
    }
    return exitCode;
  };

  let names: string[];
  try {
    names = await selectFunctions(ctx, request.names, request.pattern);
  } catch (error) {
    out.error(renderAwsError(error));
    return finish(ExitCode.failure, renderAwsError(error));
  }
  if (names.length === 0) {
    const message = request.pattern
      ? `no function matches --functions-regex ${request.pattern.source}`
      : 'name at least one function, or use --functions-regex';
    out.error(message);
    return finish(request.pattern ? ExitCode.failure : ExitCode.usage, message);
  }

  const snapshots: FunctionSnapshot[] = [];
  for (const read of await readFunctions(ctx, names)) {
    if (read.ok) snapshots.push(read.snapshot);
    else
      outcomes.set(read.name, {
        functionName: read.name,
        status: 'failed',
        message: renderAwsError(read.error),
      });
  }

  let layerFor: (fn: FunctionSnapshot) => LayerTarget = () => {
    throw new Error('no layer for detach');
  };
  try {
    if (request.source?.kind === 'arn') {
      const target = await describeLayerArn(ctx, request.source.arn);
      layerFor = () => target;
    } else if (request.source?.kind === 'publish') {
      const source = request.source;
      const choose = (fn: FunctionSnapshot) => ({
        flavor: source.flavor ?? flavorForRuntime(fn.runtime),
        arch: fn.architecture as Arch,
      });
      const needed = snapshots
        // Functions that will be refused whatever the layer need no build.
        .filter(
          (fn) =>
            fn.packageType !== 'Image' &&
            (ARCHES as readonly string[]).includes(fn.architecture) &&
            !(AMAZON_LINUX_2_RUNTIMES as readonly string[]).includes(fn.runtime ?? ''),
        )
        .map(choose);
      const published = await ensureLayers(ctx, source, needed, request.dryRun);
      for (const layer of published.values()) reportLayer(out, layer, layersJson);
      layerFor = (fn) => {
        const { flavor, arch } = choose(fn);
        return publishedTarget(source.baseName, flavor, arch, published.get(`${flavor}/${arch}`));
      };
    }
  } catch (error) {
    out.error(renderAwsError(error));
    return finish(ExitCode.failure, renderAwsError(error));
  }

  plans.push(
    ...planFunctions(
      snapshots,
      { mode: request.mode, baseName: request.baseName, lokiEnv: request.lokiEnv },
      layerFor,
    ),
  );
  const pending: FunctionPlan[] = [];
  for (const plan of plans) {
    out.human(renderPlan(plan));
    const status =
      plan.status === 'refused' ? 'refused' : plan.status === 'unchanged' ? 'unchanged' : 'planned';
    outcomes.set(plan.functionName, { functionName: plan.functionName, status });
    if (plan.status === 'change') pending.push(plan);
  }

  if (pending.length > 0 && !request.dryRun && !request.yes) {
    const question = `Apply these changes to ${pending.length === 1 ? '1 function' : `${pending.length} functions`}? [y/N] `;
    if (!ctx.deps.interactive) {
      out.error(
        'not applied: pass --yes to apply without a prompt (there is no terminal to ask), or --dry-run to only plan',
      );
      return finish(ExitCode.usage);
    }
    if (!(await ctx.deps.confirm(question))) {
      out.error('not applied: nothing was changed');
      return finish(ExitCode.failure);
    }
  }
  if (!request.dryRun) {
    const applied = await applyPlans(ctx, pending, (name, info) => out.progress(renderRetry(name, info)));
    for (const result of applied) {
      outcomes.set(
        result.functionName,
        result.ok
          ? { functionName: result.functionName, status: 'updated' }
          : { functionName: result.functionName, status: 'failed', message: renderAwsError(result.error) },
      );
    }
  }

  const list = [...outcomes.values()];
  out.human('\n');
  for (const outcome of list) out.human(renderOutcomeLine(outcome));
  out.human(renderSummary(list, request.dryRun));
  const bad = list.some((o) => o.status === 'failed' || o.status === 'refused');
  return finish(bad ? ExitCode.failure : ExitCode.ok);
}

function reportLayer(out: Output, layer: PublishedLayer, json: unknown[]): void {
  if (layer.outcome === undefined) out.human(renderWouldPublish(layer.zip));
  else out.human(renderPublished(layer.zip, layer.outcome));
  for (const grant of layer.grants) out.human(renderGrant(grant));
  json.push(publishToJson(layer.zip, layer.outcome, layer.grants));
}
