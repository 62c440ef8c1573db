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

/** One region of a run: its clients, what was read and planned there, and how it ended. */
interface RegionRun {
  readonly ctx: AwsContext;
  readonly names: readonly string[];
  readonly outcomes: Map<string, FunctionOutcome>;
  readonly plans: Map<string, FunctionPlan>;
  readonly permissionChecks: Map<string, SimulationVerdict>;
  readonly notes: Map<string, string[]>;
  readonly versions: Map<string, { version: string; alias: string | undefined }>;
  readonly layersJson: unknown[];
  readonly extras: Map<string, FunctionExtras>;
  pending: FunctionSnapshot[];
  prepared: Map<string, PreparedLayer>;
  identities: LayerIdentities | undefined;
  choose: (fn: FunctionSnapshot) => { flavor: Flavor; arch: Arch };
  planFor: (fn: FunctionSnapshot) => FunctionPlan;
  /** Why the region stopped before its plan (listing, reading a layer, building). */
  error: string | undefined;
}

/**
 * Select → read (once no update is in progress) → build and look for reusable versions → plan →
 * show → confirm → publish → apply (re-planning when the function changed) → report, for attach,
 * detach, deploy and upgrade. Nothing is created or changed in AWS before the confirmation.
 * Over several regions, the regions are selected, read and planned side by side, each with its own
 * clients (and its own layer, published or reused there); every plan is shown, grouped by region in
 * the order given; one confirmation covers them all; then the regions are applied side by side within
 * one --concurrency limit. With one region the output is that of a single run.
 */
export async function runFunctionsInRegions(
  regions: ReadonlyArray<{ readonly ctx: AwsContext; readonly names: readonly string[] }>,
  out: Output,
  request: FunctionsRequest,
): Promise<number> {
  const many = regions.length > 1;
  // Regions plan side by side, but build one at a time: the builds share the cache directory.
  const buildLayers = many ? oneAtATime(regions[0]?.ctx.deps.buildLayers) : undefined;
  const runs: RegionRun[] = regions.map(({ ctx, names }) => ({
    ctx: buildLayers === undefined ? ctx : { ...ctx, deps: { ...ctx.deps, buildLayers } },
    names,
    outcomes: new Map(),
    plans: new Map(),
    permissionChecks: new Map(),
    notes: new Map(),
    versions: new Map(),
    layersJson: [],
    extras: new Map(),
    pending: [],
    prepared: new Map(),
    identities: undefined,
    choose: (fn) => ({ flavor: flavorFor(fn), arch: fn.architecture as Arch }),
    planFor: () => {
      throw new Error('not planned');
    },
    error: undefined,
  }));
  const functionsJson = (run: RegionRun) =>
    [...run.outcomes.values()].map((outcome) => {
      const plan = run.plans.get(outcome.functionName);
      return {
        ...(many ? { region: run.ctx.region } : {}),
        ...(plan !== undefined ? planToJson(plan) : { function: outcome.functionName }),
        ...(run.notes.has(outcome.functionName) ? { notes: run.notes.get(outcome.functionName) } : {}),
        ...(run.versions.has(outcome.functionName)
          ? { published: run.versions.get(outcome.functionName) }
          : {}),
        outcome: outcome.status,
        ...(run.permissionChecks.has(outcome.functionName)
          ? { permissionCheck: run.permissionChecks.get(outcome.functionName) }
          : {}),
        ...(outcome.status === 'failed' ? { error: outcome.message } : {}),
      };
    });
  const finish = (exitCode: number, error?: string): number => {
    const list = runs.flatMap((run) => [...run.outcomes.values()]);
    if (out.json) {
      const regionErrors = runs.filter((run) => run.error !== undefined);
      out.document({
        dryRun: request.dryRun,
        ...(many ? { regions: runs.map((run) => run.ctx.region) } : {}),
        layers: runs.flatMap((run) =>
          run.layersJson.map((layer) => (many ? { region: run.ctx.region, ...(layer as object) } : layer)),
        ),
        functions: runs.flatMap(functionsJson),
        summary: Object.fromEntries(
          (['updated', 'unchanged', 'planned', 'refused', 'failed', 'interrupted'] as const)
            .map((status) => [status, list.filter((o) => o.status === status).length] as const)
            // `interrupted` appears only when Ctrl-C stopped the run.
            .filter(([status, count]) => status !== 'interrupted' || count > 0),
        ),
        ...(many && regionErrors.length > 0
          ? { regionErrors: regionErrors.map((run) => ({ region: run.ctx.region, error: run.error })) }
          : {}),
        ...(error !== undefined ? { error } : {}),
      });
    }
    return exitCode;
  };
  const fail = (error: unknown): number => {
    out.error(renderAwsError(error));
    return finish(ExitCode.failure, renderAwsError(error));
  };
  /** A region that cannot go on: alone it ends the run, among others it is reported and the rest go on. */
  const regionFailed = (run: RegionRun, error: unknown, to: Output = out): number | undefined => {
    if (!many) return fail(error);
    run.error = renderAwsError(error).trimEnd();
    to.error(`${run.ctx.region}: ${renderAwsError(error)}`);
    return undefined;
  };

  const fleet = request.fleet ?? NO_FLEET_OPTIONS;
  const selects =
    request.names.length > 0 || request.pattern !== undefined || fleet.all || fleet.tags.length > 0;
  if (!selects) {
    const message = 'name at least one function, or use --functions-regex, --tag or --all';
    out.error(message);
    return finish(ExitCode.usage, message);
  }
  // Every region is read and planned at once; each one's plans are shown together under its heading,
  // in the order the regions were given.
  const planning = runs.map(() => holdOutput(out, many));
  const planned = await Promise.all(runs.map((run, i) => planRegion(run, planning[i]?.out ?? out)));
  for (const [i, run] of runs.entries()) {
    if (many) out.human(renderRegionHeading(run.ctx.region));
    planning[i]?.release();
  }
  const planEnded = planned.find((result) => result !== undefined);
  if (planEnded !== undefined) return planEnded;
  const regionsWithout = runs.filter((run) => run.error === undefined && run.outcomes.size === 0);
  if (many && regionsWithout.length === runs.length) {
    const message = `no function of ${runs.map((run) => run.ctx.region).join(', ')} matches the selection (names, --functions-regex, --tag, --exclude-regex)`;
    out.error(message);
    return finish(ExitCode.failure, message);
  }

  async function planRegion(run: RegionRun, out: Output): Promise<number | undefined> {
    const { ctx, outcomes, plans, notes, extras } = run;
    let names: string[] = [];
    try {
      if (fleet.all || fleet.tags.length > 0 || fleet.exclude !== undefined) {
        const selection = { names: run.names, pattern: request.pattern, ...fleet };
        names = (
          await selectRegionFunctions(
            ctx.lambda,
            ctx.region,
            selection,
            fleet.concurrency,
            ctx.deps.namePatternBudgetMs,
          )
        ).map((f) => f.name);
      } else if (run.names.length > 0 || request.pattern !== undefined)
        names = await selectFunctions(ctx, run.names, request.pattern);
    } catch (error) {
      return regionFailed(run, error, out);
    }
    if (names.length === 0) {
      const message = `no function of ${ctx.region} matches the selection (names, --functions-regex, --tag, --exclude-regex)`;
      if (many) {
        out.human(`${message}\n`);
        return undefined;
      }
      out.error(message);
      return finish(ExitCode.failure, message);
    }

    const snapshots: FunctionSnapshot[] = [];
    for (const read of await readFunctions(ctx, names, fleet.concurrency)) {
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
    run.identities = identities;
    const isOurs = (arn: string) => identities.isOurs(arn);
    let targetFor: (fn: FunctionSnapshot) => LayerTarget = () => {
      throw new Error('no layer for detach');
    };
    try {
      await identities.learn(snapshots.flatMap((fn) => fn.layers));
      if (request.source?.kind === 'arn') {
        const given = await describeLayerArn(ctx, request.source.arn);
        identities.addOurSha(given.codeSha256);
        targetFor = () => given.target;
      } else if (request.source?.kind === 'publish') {
        const source = request.source;
        run.choose = (fn) => ({
          flavor:
            source.flavor ??
            (request.mode === 'upgrade' ? flavorOnFunction(fn, identities) : undefined) ??
            flavorFor(fn),
          arch: fn.architecture as Arch,
        });
        const needed = snapshots
          .filter((fn) => !needsNoLayer(fn) && (request.mode !== 'upgrade' || fn.layers.some(isOurs)))
          .map(run.choose);
        run.prepared = await prepareLayers(ctx, source, needed);
        for (const layer of run.prepared.values()) identities.addOurSha(layer.request.zip.sha256Base64);
        for (const layer of run.prepared.values()) reportPrepared(out, layer, request.dryRun, run.layersJson);
        targetFor = (fn) => {
          const { flavor, arch } = run.choose(fn);
          const layer = run.prepared.get(flavorArchKey(flavor, arch));
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
      return regionFailed(run, error, out);
    }

    run.planFor = (fn: FunctionSnapshot): FunctionPlan => {
      switch (request.mode) {
        case 'detach':
          return planDetach(fn, isOurs);
        case 'upgrade':
          return planUpgrade(fn, targetFor(fn), isOurs);
        case 'attach':
          return planAttach(fn, targetFor(fn), isOurs, request.settings);
      }
    };
    for (const fn of snapshots) {
      const plan = run.planFor(fn);
      plans.set(fn.name, plan);
      out.human(renderPlan(plan));
      const fnNotes = plan.status === 'change' ? planNotes(extras.get(fn.name)) : [];
      if (fnNotes.length > 0) notes.set(fn.name, fnNotes);
      out.human(renderPlanNotes(fnNotes));
      const status =
        plan.status === 'refused' ? 'refused' : plan.status === 'unchanged' ? 'unchanged' : 'planned';
      outcomes.set(fn.name, { functionName: fn.name, status });
      if (plan.status === 'change') run.pending.push(fn);
    }

    if (request.checkPermissions)
      await checkSecretAccess(ctx, out, [...plans.values()], run.permissionChecks);
    return undefined;
  }

  const pendingCount = runs.reduce((sum, run) => sum + run.pending.length, 0);
  const regionNames = runs.map((run) => run.ctx.region).join(', ');
  if (pendingCount > 0 && !request.dryRun && !request.yes) {
    const scope = fleet.all
      ? ` (selected with --all: every function of ${regionNames} that needs a change)`
      : '';
    const where = many ? ` in ${runs.length} regions (${regionNames})` : '';
    const question = `Apply these changes to ${pendingCount === 1 ? '1 function' : `${pendingCount} functions`}${where}${scope}? [y/N] `;
    if (!runs[0]?.ctx.deps.interactive) {
      const message =
        'not applied: pass --yes to apply without a prompt (there is no terminal to ask), or --dry-run to only plan';
      out.error(message);
      return finish(ExitCode.usage, message);
    }
    if (!(await runs[0].ctx.deps.confirm(question))) {
      const message = 'not applied: nothing was changed';
      out.error(message);
      return finish(ExitCode.failure, message);
    }
  }
  const deps = runs[0]?.ctx.deps;
  if (request.dryRun || pendingCount === 0 || deps === undefined)
    return report(out, runs, request.dryRun, finish);

  const interrupted = deps.interrupted();
  interrupted.addEventListener('abort', () => out.progress(renderInterrupting()), { once: true });
  const printed = new Set<string>();
  const stopped = (): number => {
    for (const run of runs) {
      for (const fn of run.pending) {
        if (run.outcomes.get(fn.name)?.status === 'planned') {
          run.outcomes.set(fn.name, { functionName: fn.name, status: 'interrupted' });
        }
      }
    }
    return report(out, runs, false, finish, ExitCode.interrupted, printed);
  };

  const onTerminal = deps.interactive && !out.json;
  let done = 0;
  let failed = 0;
  if (interrupted.aborted) return stopped();
  // The regions side by side: each publishes what its changes need, all at once, and their lines are
  // shown together, region by region in the order given; then their updates share one limit of
  // --concurrency, taken in turn from each region so that every region progresses from the start.
  const applying = runs.filter((run) => run.pending.length > 0);
  const held = applying.map(() => holdOutput(out, many));
  const published = await Promise.all(applying.map((run, i) => publishRegion(run, held[i]?.out ?? out)));
  const ready: RegionRun[] = [];
  for (const [i, run] of applying.entries()) {
    if (held[i]?.holding) out.human(renderRegionHeading(run.ctx.region));
    held[i]?.release();
    if (published[i] === 'done') ready.push(run);
  }
  const ended = published.find((result) => typeof result === 'number');
  if (ended !== undefined) return ended;
  if (published.includes('stopped')) return stopped();
  const updates = takeInTurn(ready.map((run) => run.pending.map((fn) => ({ run, fn }))));
  await mapWithLimit(updates, fleet.concurrency, ({ run, fn }) => applyOne(run, fn));
  if (onTerminal && updates.length > 0) out.progress(CLEAR_PROGRESS_LINE);
  if (interrupted.aborted) return stopped();
  return report(out, runs, false, finish, undefined, printed);

  // Confirmed: now publish the versions the changes need (and only those), in the region's own account.
  async function publishRegion(run: RegionRun, out: Output): Promise<'done' | 'stopped' | 'failed' | number> {
    if (request.source?.kind !== 'publish') return 'done';
    const used = new Set(run.pending.map((fn) => flavorArchKey(run.choose(fn).flavor, run.choose(fn).arch)));
    const grants = request.source.grants;
    run.layersJson.length = 0;
    try {
      for (const [key, layer] of run.prepared) {
        if (interrupted.aborted) return 'stopped';
        if (used.has(key)) {
          const done = await publishPrepared(run.ctx, layer, grants);
          if (done.outcome?.action === 'published') out.human(renderPublished(done.zip, done.outcome));
          for (const grant of done.grants) out.human(renderGrant(grant));
        }
        run.layersJson.push(
          publishToJson(layer.request, layer.published?.outcome, layer.published?.grants ?? []),
        );
      }
    } catch (error) {
      const ended = regionFailed(run, error, out);
      if (ended !== undefined) return ended;
      // Its functions keep what they have: each says why.
      for (const fn of run.pending) {
        run.outcomes.set(fn.name, {
          functionName: fn.name,
          status: 'failed',
          message: `its layer could not be published in ${run.ctx.region}: ${renderAwsError(error).trimEnd()}`,
        });
      }
      return 'failed';
    }
    return 'done';
  }

  async function applyOne(run: RegionRun, fn: FunctionSnapshot): Promise<void> {
    if (interrupted.aborted) return;
    const { ctx, outcomes, plans } = run;
    const identities = run.identities;
    const replan = async (snapshot: FunctionSnapshot): Promise<FunctionPlan> => {
      registerFunctionSecrets(out.secrets, snapshot.env);
      await identities?.learn(snapshot.layers);
      const plan = run.planFor(snapshot);
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
      if (result.applied) await afterApplied(run, fn);
    } catch (error) {
      outcomes.set(fn.name, { functionName: fn.name, status: 'failed', message: renderAwsError(error) });
    }
    // Each result as it finishes, under a progress line that is rewritten on a terminal.
    const outcome = outcomes.get(fn.name);
    done++;
    if (outcome?.status === 'failed') failed++;
    if (onTerminal) out.progress(CLEAR_PROGRESS_LINE);
    // Among several regions, whose result it is (the lines of all regions come as they finish).
    if (outcome !== undefined) out.human(`${many ? `${run.ctx.region}: ` : ''}${renderOutcomeLine(outcome)}`);
    printed.add(printedKey(run, fn.name));
    if (onTerminal) out.progress(renderRolloutProgress(done, pendingCount, failed));
  }

  async function afterApplied(run: RegionRun, fn: FunctionSnapshot): Promise<void> {
    const { ctx } = run;
    // The tag lets a team find its instrumented functions (status --tag); it is not worth failing for.
    try {
      if (request.mode === 'detach') {
        if (run.extras.get(fn.name)?.tags[INSTRUMENTED_TAG] !== undefined)
          await untagInstrumented(ctx.lambda, fn.arn);
      } else await tagInstrumented(ctx.lambda, fn.arn, VERSION);
    } catch (error) {
      out.progress(
        renderTagWarning(fn.name, request.mode === 'detach' ? 'untag' : 'tag', renderAwsError(error)),
      );
    }
    if (fleet.publishVersion) {
      const published = await publishFunctionVersion(ctx.lambda, fn.name, fleet.alias);
      run.versions.set(fn.name, published);
      out.human(renderPublishedVersion(fn.name, published.version, published.alias));
    }
  }
}

/**
 * Among several regions, a region's lines held back until `release`, so that regions working at once
 * still print theirs together; with one region, the output itself. Progress goes out at once.
 */
function holdOutput(
  out: Output,
  hold: boolean,
): { out: Output; readonly holding: boolean; release: () => void } {
  if (!hold) return { out, holding: false, release: () => {} };
  const lines: Array<() => void> = [];
  return {
    out: {
      ...out,
      human: (text) => lines.push(() => out.human(text)),
      error: (text) => lines.push(() => out.error(text)),
    },
    get holding() {
      return lines.length > 0;
    },
    release: () => {
      for (const line of lines.splice(0)) line();
    },
  };
}

/** `work`, one call at a time: a call starts when the one before it has settled. */
function oneAtATime<A extends unknown[], R>(
  work: ((...args: A) => Promise<R>) | undefined,
): ((...args: A) => Promise<R>) | undefined {
  if (work === undefined) return undefined;
  let last: Promise<unknown> = Promise.resolve();
  return (...args) => {
    const next = last.then(() => work(...args));
    last = next.catch(() => {});
    return next;
  };
}

/** The items of every list, one from each in turn: [[a1, a2], [b1]] gives a1, b1, a2. */
function takeInTurn<T>(lists: ReadonlyArray<readonly T[]>): T[] {
  const taken: T[] = [];
  for (let i = 0; lists.some((list) => i < list.length); i++)
    for (const list of lists) if (i < list.length) taken.push(list[i] as T);
  return taken;
}

function printedKey(run: RegionRun, functionName: string): string {
  return `${run.ctx.region}\n${functionName}`;
}

/** The line above a region's plans and results when a run covers several regions. */
function renderRegionHeading(region: string): string {
  return `\n== ${region} ==\n`;
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
  runs: readonly RegionRun[],
  dryRun: boolean,
  finish: (exitCode: number) => number,
  exitCode?: number,
  printed: ReadonlySet<string> = new Set(),
): number {
  const list = runs.flatMap((run) => [...run.outcomes.values()]);
  out.human('\n');
  for (const run of runs) {
    const mine = [...run.outcomes.values()];
    if (runs.length > 1) out.human(renderRegionHeading(run.ctx.region).trimStart());
    // Results printed as they finished are not repeated.
    for (const outcome of mine)
      if (!printed.has(printedKey(run, outcome.functionName))) out.human(renderOutcomeLine(outcome));
    if (runs.length > 1) {
      if (run.error !== undefined) out.human(`not planned: ${run.error}\n`);
      out.human(`${run.ctx.region}: ${renderSummary(mine, dryRun)}`);
    }
  }
  if (runs.length > 1) out.human(`\nall ${runs.length} regions: `);
  out.human(renderSummary(list, dryRun));
  const bad =
    list.some((o) => o.status === 'failed' || o.status === 'refused') ||
    runs.some((run) => run.error !== undefined);
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
