import {
  type FunctionPlan,
  type LayerTarget,
  planAttach,
  planDetach,
  planUpgrade,
} from '../aws/attach-plan.js';
import { mapWithLimit } from '../aws/concurrency.js';
import { FunctionUpdateFailedError } from '../aws/errors.js';
import { flavorFor } from '../aws/flavor-choice.js';
import { selectRegionFunctions } from '../aws/fleet-selection.js';
import {
  type FunctionExtras,
  INSTRUMENTED_TAG,
  publishFunctionVersion,
  readFunctionExtras,
  tagInstrumented,
  untagInstrumented,
} from '../aws/function-extras.js';
import type { FunctionSnapshot } from '../aws/functions.js';
import {
  type AwsContext,
  applyWithReplan,
  describeLayerArn,
  flavorArchKey,
  isUnpublishedArn,
  type LayerSource,
  layerNameFor,
  needsNoLayer,
  ourLayerNames,
  type PreparedLayer,
  preparedTarget,
  prepareLayers,
  publishPrepared,
  readFunctions,
  selectFunctions,
  unpublishedArn,
} from '../aws/functions-workflow.js';
import { LayerIdentities } from '../aws/layer-identity.js';
import type { GivenSettings } from '../aws/loki-env.js';
import { type SimulationVerdict, simulateSecretAccess } from '../aws/secret-access.js';
import { ExitCode } from '../io.js';
import { type Arch, type Flavor, LAYER_NAME_DEFAULT, runtimesFor } from '../layer/targets.js';
import { registerFunctionSecrets } from '../redacting-io.js';
import { renderAwsError, renderFunctionReadError } from '../render/aws-errors.js';
import {
  CLEAR_PROGRESS_LINE,
  planNotes,
  renderPlanNotes,
  renderPublishedVersion,
  renderRolloutProgress,
  renderTagWarning,
} from '../render/fleet.js';
import {
  type FunctionOutcome,
  planToJson,
  renderInterrupting,
  renderOutcomeLine,
  renderPlan,
  renderReplanned,
  renderSimulation,
  renderStalePlan,
  renderSummary,
} from '../render/functions.js';
import type { Output } from '../render/output.js';
import {
  publishToJson,
  renderGrant,
  renderPublished,
  renderToPublish,
  renderWouldPublish,
} from '../render/publish.js';
import { VERSION } from '../version.js';
import { type FleetOptions, NO_FLEET_OPTIONS } from './fleet-options.js';

export interface FunctionsRequest {
  readonly mode: 'attach' | 'detach' | 'upgrade';
  readonly names: readonly string[];
  readonly pattern: RegExp | undefined;
  readonly baseName: string;
  /** Undefined for detach. */
  readonly source: LayerSource | undefined;
  /** The LOKI_* values given (attach); kept settings come from each function. */
  readonly settings: GivenSettings;
  readonly dryRun: boolean;
  readonly yes: boolean;
  /** Ask IAM whether each role may read the Loki credential its function points to (attach, deploy). */
  readonly checkPermissions?: boolean;
  readonly fleet?: FleetOptions;
}

/**
 * Select → read (once no update is in progress) → build and look for reusable versions → plan →
 * show → confirm → publish → apply (re-planning when the function changed) → report, for attach,
 * detach, deploy and upgrade. Nothing is created or changed in AWS before the confirmation.
 */
export async function runFunctions(ctx: AwsContext, out: Output, request: FunctionsRequest): Promise<number> {
  const outcomes = new Map<string, FunctionOutcome>();
  const plans = new Map<string, FunctionPlan>();
  const permissionChecks = new Map<string, SimulationVerdict>();
  const notes = new Map<string, string[]>();
  const versions = new Map<string, { version: string; alias: string | undefined }>();
  const layersJson: unknown[] = [];
  const finish = (exitCode: number, error?: string): number => {
    const list = [...outcomes.values()];
    if (out.json) {
      out.document({
        dryRun: request.dryRun,
        layers: layersJson,
        functions: list.map((outcome) => {
          const plan = plans.get(outcome.functionName);
          return {
            ...(plan !== undefined ? planToJson(plan) : { function: outcome.functionName }),
            ...(notes.has(outcome.functionName) ? { notes: notes.get(outcome.functionName) } : {}),
            ...(versions.has(outcome.functionName) ? { published: versions.get(outcome.functionName) } : {}),
            outcome: outcome.status,
            ...(permissionChecks.has(outcome.functionName)
              ? { permissionCheck: permissionChecks.get(outcome.functionName) }
              : {}),
            ...(outcome.status === 'failed' ? { error: outcome.message } : {}),
          };
        }),
        summary: Object.fromEntries(
          (['updated', 'unchanged', 'planned', 'refused', 'failed', 'interrupted'] as const)
            .map((status) => [status, list.filter((o) => o.status === status).length] as const)
            // `interrupted` appears only when Ctrl-C stopped the run.
            .filter(([status, count]) => status !== 'interrupted' || count > 0),
        ),
        ...(error !== undefined ? { error } : {}),
      });
    }
    return exitCode;
  };
  const fail = (error: unknown): number => {
    out.error(renderAwsError(error));
    return finish(ExitCode.failure, renderAwsError(error));
  };

  const fleet = request.fleet ?? NO_FLEET_OPTIONS;
  const selects =
    request.names.length > 0 || request.pattern !== undefined || fleet.all || fleet.tags.length > 0;
  let names: string[] = [];
  try {
    if (!selects) names = [];
    else if (fleet.all || fleet.tags.length > 0 || fleet.exclude !== undefined) {
      const selection = { names: request.names, pattern: request.pattern, ...fleet };
      names = (await selectRegionFunctions(ctx.lambda, ctx.region, selection, fleet.concurrency)).map(
        (f) => f.name,
      );
    } else names = await selectFunctions(ctx, request.names, request.pattern);
  } catch (error) {
    return fail(error);
  }
  if (names.length === 0) {
    const message = selects
      ? `no function of ${ctx.region} matches the selection (names, --functions-regex, --tag, --exclude-regex)`
      : 'name at least one function, or use --functions-regex, --tag or --all';
    out.error(message);
    return finish(selects ? ExitCode.failure : ExitCode.usage, message);
  }

  const snapshots: FunctionSnapshot[] = [];
  for (const read of await readFunctions(ctx, names)) {
    if (read.ok) {
      registerFunctionSecrets(out.secrets, read.snapshot.env);
      snapshots.push(read.snapshot);
    } else
      outcomes.set(read.name, {
        functionName: read.name,
        status: 'failed',
        message: renderFunctionReadError(read.error, ctx.region),
      });
  }

  // Tags (who deploys it) and aliases (what a change of $LATEST misses), for the plan's notes and tagging.
  const extras = new Map<string, FunctionExtras>();
  await mapWithLimit(snapshots, fleet.concurrency, async (fn) => {
    try {
      extras.set(fn.name, await readFunctionExtras(ctx.lambda, fn.arn));
    } catch {
      // Without lambda:ListTags / ListAliases the plan has no notes; nothing else depends on them.
    }
  });

  // Our layer is recognised by what it is: its name, the description publish writes, or its zip.
  const identities = new LayerIdentities(
    ctx.lambda,
    new Set([...ourLayerNames(request.baseName), ...ourLayerNames(LAYER_NAME_DEFAULT)]),
  );
  const isOurs = (arn: string) => identities.isOurs(arn);
  let targetFor: (fn: FunctionSnapshot) => LayerTarget = () => {
    throw new Error('no layer for detach');
  };
  let prepared = new Map<string, PreparedLayer>();
  let choose: (fn: FunctionSnapshot) => { flavor: Flavor; arch: Arch } = (fn) => ({
    flavor: flavorFor(fn),
    arch: fn.architecture as Arch,
  });
  try {
    await identities.learn(snapshots.flatMap((fn) => fn.layers));
    if (request.source?.kind === 'arn') {
      const given = await describeLayerArn(ctx, request.source.arn);
      identities.addOurSha(given.codeSha256);
      targetFor = () => given.target;
    } else if (request.source?.kind === 'publish') {
      const source = request.source;
      choose = (fn) => ({
        flavor:
          source.flavor ??
          (request.mode === 'upgrade' ? flavorOnFunction(fn, identities) : undefined) ??
          flavorFor(fn),
        arch: fn.architecture as Arch,
      });
      const needed = snapshots
        .filter((fn) => !needsNoLayer(fn) && (request.mode !== 'upgrade' || fn.layers.some(isOurs)))
        .map(choose);
      prepared = await prepareLayers(ctx, source, needed);
      for (const layer of prepared.values()) identities.addOurSha(layer.request.zip.sha256Base64);
      for (const layer of prepared.values()) reportPrepared(out, layer, request.dryRun, layersJson);
      targetFor = (fn) => {
        const { flavor, arch } = choose(fn);
        const layer = prepared.get(flavorArchKey(flavor, arch));
        if (layer !== undefined) return preparedTarget(flavor, arch, layer);
        return {
          arn: unpublishedArn(layerNameFor(source.baseName, flavor, arch)),
          name: layerNameFor(source.baseName, flavor, arch),
          flavor,
          compatibleArchitectures: [arch],
          compatibleRuntimes: runtimesFor(flavor),
        };
      };
    }
  } catch (error) {
    return fail(error);
  }

  const planFor = (fn: FunctionSnapshot): FunctionPlan => {
    switch (request.mode) {
      case 'detach':
        return planDetach(fn, isOurs);
      case 'upgrade':
        return planUpgrade(fn, targetFor(fn), isOurs);
      case 'attach':
        return planAttach(fn, targetFor(fn), isOurs, request.settings);
    }
  };
  const pending: FunctionSnapshot[] = [];
  for (const fn of snapshots) {
    const plan = planFor(fn);
    plans.set(fn.name, plan);
    out.human(renderPlan(plan));
    const fnNotes = plan.status === 'change' ? planNotes(extras.get(fn.name)) : [];
    if (fnNotes.length > 0) notes.set(fn.name, fnNotes);
    out.human(renderPlanNotes(fnNotes));
    const status =
      plan.status === 'refused' ? 'refused' : plan.status === 'unchanged' ? 'unchanged' : 'planned';
    outcomes.set(fn.name, { functionName: fn.name, status });
    if (plan.status === 'change') pending.push(fn);
  }

  if (request.checkPermissions) await checkSecretAccess(ctx, out, [...plans.values()], permissionChecks);

  if (pending.length > 0 && !request.dryRun && !request.yes) {
    const scope = fleet.all
      ? ` (selected with --all: every function of ${ctx.region} that needs a change)`
      : '';
    const question = `Apply these changes to ${pending.length === 1 ? '1 function' : `${pending.length} functions`}${scope}? [y/N] `;
    if (!ctx.deps.interactive) {
      const message =
        'not applied: pass --yes to apply without a prompt (there is no terminal to ask), or --dry-run to only plan';
      out.error(message);
      return finish(ExitCode.usage, message);
    }
    if (!(await ctx.deps.confirm(question))) {
      const message = 'not applied: nothing was changed';
      out.error(message);
      return finish(ExitCode.failure, message);
    }
  }
  if (request.dryRun || pending.length === 0) return report(out, outcomes, request.dryRun, finish);

  const interrupted = ctx.deps.interrupted();
  interrupted.addEventListener('abort', () => out.progress(renderInterrupting()), { once: true });
  const stopped = (printed?: ReadonlySet<string>): number => {
    for (const fn of pending) {
      if (outcomes.get(fn.name)?.status === 'planned') {
        outcomes.set(fn.name, { functionName: fn.name, status: 'interrupted' });
      }
    }
    return report(out, outcomes, false, finish, ExitCode.interrupted, printed);
  };

  // Confirmed: now publish the versions the changes need (and only those).
  const used = new Set(pending.map((fn) => flavorArchKey(choose(fn).flavor, choose(fn).arch)));
  if (request.source?.kind === 'publish') {
    const grants = request.source.grants;
    layersJson.length = 0;
    try {
      for (const [key, layer] of prepared) {
        if (interrupted.aborted) return stopped();
        if (used.has(key)) {
          const done = await publishPrepared(ctx, layer, grants);
          if (done.outcome?.action === 'published') out.human(renderPublished(done.zip, done.outcome));
          for (const grant of done.grants) out.human(renderGrant(grant));
        }
        layersJson.push(
          publishToJson(layer.request, layer.published?.outcome, layer.published?.grants ?? []),
        );
      }
    } catch (error) {
      return fail(error);
    }
  }

  const printed = new Set<string>();
  const onTerminal = ctx.deps.interactive && !out.json;
  let done = 0;
  let failed = 0;
  const applyOne = async (fn: FunctionSnapshot): Promise<void> => {
    if (interrupted.aborted) return;
    const replan = async (snapshot: FunctionSnapshot): Promise<FunctionPlan> => {
      registerFunctionSecrets(out.secrets, snapshot.env);
      await identities.learn(snapshot.layers);
      const plan = planFor(snapshot);
      if (plan.update?.layers?.some(isUnpublishedArn)) {
        throw new FunctionUpdateFailedError(
          fn.name,
          'it changed (runtime or architecture) while being updated and needs another layer; run the command again',
        );
      }
      return plan;
    };
    try {
      let last = await replan(fn);
      const result = await applyWithReplan(ctx, last, fn.name, replan, {
        onStale: (info) => out.progress(renderStalePlan(info)),
        onReplanned: (plan) => {
          if (differs(plan, last)) out.human(renderReplanned(plan));
          last = plan;
        },
      });
      plans.set(fn.name, result.plan);
      const status = result.applied ? 'updated' : result.plan.status === 'refused' ? 'refused' : 'unchanged';
      outcomes.set(fn.name, { functionName: fn.name, status });
      if (result.applied) await afterApplied(fn);
    } catch (error) {
      outcomes.set(fn.name, { functionName: fn.name, status: 'failed', message: renderAwsError(error) });
    }
    // Each result as it finishes, under a progress line that is rewritten on a terminal.
    const outcome = outcomes.get(fn.name);
    done++;
    if (outcome?.status === 'failed') failed++;
    if (onTerminal) out.progress(CLEAR_PROGRESS_LINE);
    if (outcome !== undefined) out.human(renderOutcomeLine(outcome));
    printed.add(fn.name);
    if (onTerminal) out.progress(renderRolloutProgress(done, pending.length, failed));
  };
  const afterApplied = async (fn: FunctionSnapshot): Promise<void> => {
    // The tag lets a team find its instrumented functions (status --tag); it is not worth failing for.
    try {
      if (request.mode === 'detach') {
        if (extras.get(fn.name)?.tags[INSTRUMENTED_TAG] !== undefined)
          await untagInstrumented(ctx.lambda, fn.arn);
      } else await tagInstrumented(ctx.lambda, fn.arn, VERSION);
    } catch (error) {
      out.progress(
        renderTagWarning(fn.name, request.mode === 'detach' ? 'untag' : 'tag', renderAwsError(error)),
      );
    }
    if (fleet.publishVersion) {
      const published = await publishFunctionVersion(ctx.lambda, fn.name, fleet.alias);
      versions.set(fn.name, published);
      out.human(renderPublishedVersion(fn.name, published.version, published.alias));
    }
  };
  await mapWithLimit(pending, fleet.concurrency, applyOne);
  if (onTerminal) out.progress(CLEAR_PROGRESS_LINE);
  if (interrupted.aborted) return stopped(printed);
  return report(out, outcomes, false, finish, undefined, printed);
}

/** --check-permissions: what IAM says about each role and its secret, said before anything is applied. */
async function checkSecretAccess(
  ctx: AwsContext,
  out: Output,
  plans: readonly FunctionPlan[],
  verdicts: Map<string, SimulationVerdict>,
): Promise<void> {
  for (const plan of plans) {
    if (plan.secretAccess === undefined || plan.status === 'refused') continue;
    const iam = await ctx.getIam?.();
    const verdict: SimulationVerdict =
      iam === undefined
        ? { kind: 'unknown', reason: 'no IAM client' }
        : await simulateSecretAccess(iam, plan.secretAccess);
    verdicts.set(plan.functionName, verdict);
    out.human(renderSimulation(plan.functionName, plan.secretAccess, verdict));
  }
}

function report(
  out: Output,
  outcomes: ReadonlyMap<string, FunctionOutcome>,
  dryRun: boolean,
  finish: (exitCode: number) => number,
  exitCode?: number,
  printed: ReadonlySet<string> = new Set(),
): number {
  const list = [...outcomes.values()];
  out.human('\n');
  // Results printed as they finished are not repeated.
  for (const outcome of list) if (!printed.has(outcome.functionName)) out.human(renderOutcomeLine(outcome));
  out.human(renderSummary(list, dryRun));
  const bad = list.some((o) => o.status === 'failed' || o.status === 'refused');
  return finish(exitCode ?? (bad ? ExitCode.failure : ExitCode.ok));
}

/** The flavor of the extension a function carries now, so that upgrade keeps it. */
function flavorOnFunction(fn: FunctionSnapshot, identities: LayerIdentities): Flavor | undefined {
  for (const arn of fn.layers) {
    if (identities.isOurs(arn)) {
      const flavor = identities.flavorOf(arn);
      if (flavor !== undefined) return flavor;
    }
  }
  return undefined;
}

/** What a person would see change between two plans of one function (not its RevisionId). */
function differs(a: FunctionPlan, b: FunctionPlan): boolean {
  const shape = (p: FunctionPlan) =>
    JSON.stringify([p.status, p.layersBefore, p.layersAfter, p.envChanges, p.refusals]);
  return shape(a) !== shape(b);
}

function reportPrepared(out: Output, layer: PreparedLayer, dryRun: boolean, json: unknown[]): void {
  const outcome = layer.published?.outcome;
  if (outcome !== undefined) out.human(renderPublished(layer.request.zip, outcome));
  else out.human(dryRun ? renderWouldPublish(layer.request.zip) : renderToPublish(layer.request));
  json.push(publishToJson(layer.request, outcome, []));
}
