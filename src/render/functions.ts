import { bufferTooLarge, ENV_VARS } from '../../extension/config.js';
import { MASK, redactUrl } from '../../extension/redact.js';
import {
  type EnvChange,
  type FunctionPlan,
  MAX_ENV_BYTES,
  MAX_LAYERS_PER_FUNCTION,
  type Refusal,
} from '../aws/attach-plan.js';
import type { StalePlanInfo } from '../aws/functions-workflow.js';
import { flagOf, isSecretVariable, type SettingOrigin } from '../aws/loki-env.js';
import { policyDocument, type SecretAccess, type SimulationVerdict } from '../aws/secret-access.js';
import { SLIM_RUNTIMES } from '../layer/targets.js';

/** A variable's value as it may be shown: secrets masked, and only our LOKI_* values ever shown. */
export function shownValue(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (isSecretVariable(name)) return MASK;
  if (!name.startsWith('LOKI_')) return MASK;
  // An old value may predate the check that refuses credentials in the URL.
  if (name === ENV_VARS.endpointUrl) return redactUrl(value);
  return value;
}

/** The plan as a diff: `=` kept, `-` removed, `+` added, `~` changed. */
export function renderPlan(plan: FunctionPlan): string {
  const lines = [`${plan.functionName} (${plan.runtime ?? 'container image'}, ${plan.architecture})`];
  if (plan.status === 'refused') {
    for (const refusal of plan.refusals) lines.push(`  refused: ${renderRefusal(refusal)}`);
    return `${lines.join('\n')}\n`;
  }
  if (plan.note === 'not-attached') {
    lines.push('  nothing to upgrade: loki-lambda is not attached to this function (use attach)');
    return `${lines.join('\n')}\n`;
  }
  if (plan.status === 'unchanged') {
    lines.push('  nothing to change: the layer and LOKI_* settings are already as requested');
    return `${lines.join('\n')}\n`;
  }
  lines.push('  layers:');
  const after = new Set(plan.layersAfter);
  const before = new Set(plan.layersBefore);
  for (const arn of plan.layersBefore) lines.push(`    ${after.has(arn) ? '=' : '-'} ${arn}`);
  for (const arn of plan.layersAfter) if (!before.has(arn)) lines.push(`    + ${arn}`);
  if (plan.layersBefore.length === 0 && plan.layersAfter.length === 0) lines.push('    (none)');
  const others = plan.envKeptCount - plan.envKeptExtension.length;
  const kept = others === 1 ? '1 other variable kept' : `${others} other variables kept`;
  lines.push(`  environment (${kept}):`);
  if (plan.envChanges.length === 0) lines.push('    (no change)');
  for (const change of plan.envChanges) lines.push(`    ${renderEnvChange(change, plan.envOrigins)}`);
  for (const name of plan.envKeptExtension) {
    lines.push(`    = ${name}  (${describeOrigin(name, 'function')})`);
  }
  if (plan.secretAccess !== undefined) lines.push(...renderSecretAccess(plan.secretAccess));
  return `${lines.join('\n')}\n`;
}

/** The IAM statement the function's role needs to read the Loki credential it points to. */
export function renderSecretAccess(access: SecretAccess): string[] {
  const role = access.roleName === undefined ? "the function's role" : `the role ${access.roleName}`;
  return [
    `  ${role} needs, to read ${access.variable}:`,
    `    ${access.statement.Action} on ${access.statement.Resource}`,
    `    (and kms:Decrypt on its KMS key if that is customer-managed); as a policy statement:`,
    `    ${JSON.stringify(access.statement)}`,
  ];
}

/** What IAM said about the role and the secret (--check-permissions), before anything is applied. */
export function renderSimulation(
  functionName: string,
  access: SecretAccess,
  verdict: SimulationVerdict,
): string {
  const role = access.roleName ?? "the function's role";
  const what = `${access.statement.Action} on ${access.statement.Resource}`;
  if (verdict.kind === 'allowed') return `${functionName}: IAM says ${role} may ${what}\n`;
  if (verdict.kind === 'denied') {
    return `${functionName}: IAM says ${role} may NOT ${what} (${verdict.decision}): add the statement above to the role, or the extension cannot read the credential\n`;
  }
  return `${functionName}: could not ask IAM whether ${role} may ${what} (${verdict.reason}); iam:SimulatePrincipalPolicy is needed for --check-permissions\n`;
}

function renderEnvChange(change: EnvChange, origins: Readonly<Record<string, SettingOrigin>>): string {
  const before = shownValue(change.name, change.before);
  const after = shownValue(change.name, change.after);
  const origin = origins[change.name];
  const from = origin !== undefined ? `  (${describeOrigin(change.name, origin)})` : '';
  if (before === undefined) return `+ ${change.name}=${after}${from}`;
  if (after === undefined) return `- ${change.name}`;
  return `~ ${change.name}: ${before} -> ${after}${from}`;
}

/** Where a value came from, as the plan says it: `from --app`, `from the shell environment`, … */
export function describeOrigin(variable: string, origin: SettingOrigin): string {
  switch (origin) {
    case 'flag':
      return `from ${flagOf(variable) ?? 'a flag'}`;
    case 'environment':
      return 'from the shell environment';
    case 'config file':
      return 'from the config file';
    case 'function':
      return 'kept from the function';
  }
}

/**
 * A problem of the extension's parser, naming the flag a person can type: `--app is required
 * (LOKI_APPLICATION_LABEL: the application label)`, `--flush-interval-ms (LOKI_FLUSH_INTERVAL_MS) must …`.
 * A value kept from the function says so, since no flag of this run set it.
 */
export function renderSettingProblem(
  problem: string,
  origins: Readonly<Record<string, SettingOrigin>> = {},
): string {
  const match = /^(LOKI_[A-Z_]+)(:? )(.*)$/.exec(problem);
  if (match === null) return problem;
  const [, variable = '', separator = ' ', rest = ''] = match;
  const flag = flagOf(variable);
  if (origins[variable] === 'function') {
    return `${variable} on the function ${rest}${flag !== undefined ? `; pass ${flag} to replace it` : ''}`;
  }
  if (flag === undefined) return problem;
  const required = /^is required \((.*)\)$/.exec(rest);
  if (required !== null) return `${flag} is required (${variable}: ${required[1]})`;
  return `${flag} (${variable})${separator === ': ' ? ': ' : ' '}${rest}`;
}

/** Why a function was refused, and what to do about it. */
export function renderRefusal(refusal: Refusal): string {
  switch (refusal.kind) {
    case 'container-image':
      return (
        'this is a container-image function and Lambda does not add layers to those. ' +
        'Copy the layer into the image instead: unzip it into /opt in your Dockerfile (extensions/ and loki-lambda/).'
      );
    case 'amazon-linux-2':
      return (
        `runtime ${refusal.runtime} runs on Amazon Linux 2, whose glibc 2.26 is too old for the Node.js ` +
        'of this layer (it needs glibc 2.28). Use the al2 flavor, which runs the extension with Bun ' +
        '(--flavor al2, or leave --flavor and --layer-arn out and attach picks it), then attach again.'
      );
    case 'runtime-unsupported':
      if (refusal.flavor === 'slim') {
        return (
          `the slim flavor runs on the function's own Node.js (${SLIM_RUNTIMES.join(', ')}) and runtime ` +
          `${refusal.runtime ?? '(none)'} has none. Use the standalone flavor: --flavor standalone, or its layer ARN.`
        );
      }
      return (
        `layer ${refusal.layerName} does not list runtime ${refusal.runtime ?? '(none)'} among its compatible runtimes. ` +
        'Attach a layer built for it, or let loki-lambda publish one (leave out --layer-arn).'
      );
    case 'arch-mismatch':
      return (
        `the function runs on ${refusal.functionArch} but the layer is built for ${refusal.layerArches.join(', ')}. ` +
        `Use the ${refusal.functionArch} layer (loki-lambda publish --arch ${refusal.functionArch}), or leave out --layer-arn.`
      );
    case 'too-many-layers':
      return (
        `the function would have ${refusal.count} layers and Lambda allows at most ${MAX_LAYERS_PER_FUNCTION}. ` +
        'Remove a layer it no longer needs, then attach again.'
      );
    case 'invalid-settings':
      return `the Loki settings would not start the extension: ${refusal.problems
        .map((problem) => renderSettingProblem(problem, refusal.origins))
        .join('; ')}`;
    case 'env-too-large':
      return (
        `its environment variables would take ${refusal.bytes} bytes and Lambda allows ${MAX_ENV_BYTES} ` +
        `(4 KiB, counted as JSON). Remove or shorten some variables (${ENV_VARS.extraLabels} for example), then attach again.`
      );
    case 'buffer-too-large':
      return (
        `${bufferTooLarge(refusal.bytes, refusal.memorySizeMb, refusal.maxBytes)}. ` +
        `Lower ${ENV_VARS.maxBufferBytes} (unset, it is 1/16 of the memory, at most 16 MiB) or give the function more memory, then attach again.`
      );
  }
}

export type FunctionOutcome =
  | {
      readonly functionName: string;
      /** `interrupted`: not applied because Ctrl-C stopped the run first. */
      readonly status: 'updated' | 'unchanged' | 'planned' | 'refused' | 'interrupted';
    }
  | { readonly functionName: string; readonly status: 'failed'; readonly message: string };

export function renderOutcomeLine(outcome: FunctionOutcome): string {
  switch (outcome.status) {
    case 'updated':
      return `updated    ${outcome.functionName}\n`;
    case 'unchanged':
      return `unchanged  ${outcome.functionName} (nothing to change)\n`;
    case 'planned':
      return `planned    ${outcome.functionName} (dry run: not changed)\n`;
    case 'refused':
      return `refused    ${outcome.functionName}\n`;
    case 'failed':
      return `failed     ${outcome.functionName}: ${outcome.message}\n`;
    case 'interrupted':
      return `stopped    ${outcome.functionName} (not changed: interrupted by Ctrl-C)\n`;
  }
}

/** Said at once on Ctrl-C while applying; the report follows when the update in progress is done. */
export function renderInterrupting(): string {
  return 'interrupted: finishing the update in progress, then stopping (Ctrl-C again to quit at once)\n';
}

export function renderSummary(outcomes: readonly FunctionOutcome[], dryRun: boolean): string {
  const count = (status: FunctionOutcome['status']) => outcomes.filter((o) => o.status === status).length;
  const parts = dryRun
    ? [`${count('planned')} would change`, `${count('unchanged')} unchanged`]
    : [`${count('updated')} updated`, `${count('unchanged')} unchanged`];
  parts.push(`${count('refused')} refused`, `${count('failed')} failed`);
  if (count('interrupted') > 0) parts.push(`${count('interrupted')} not changed (interrupted)`);
  const total = outcomes.length === 1 ? '1 function' : `${outcomes.length} functions`;
  return `${total}: ${parts.join(', ')}${dryRun ? ' (dry run: nothing was changed)' : ''}\n`;
}

/** Progress when an update was refused because the plan is stale. */
export function renderStalePlan(info: StalePlanInfo): string {
  const why =
    info.errorName === 'ResourceConflictException'
      ? 'another update of it is in progress'
      : 'it changed after it was planned (RevisionId)';
  return `${info.functionName}: ${why}; reading it again and planning again in ${info.delayMs / 1000} s (attempt ${info.attempt + 1})\n`;
}

/** A plan made again after the function changed, shown when it differs from the one before. */
export function renderReplanned(plan: FunctionPlan): string {
  return `${plan.functionName} changed while it was being updated; the new plan:\n${renderPlan(plan)}`;
}

/** Progress while a function is waited for before it is read. */
export function renderWaiting(functionName: string): string {
  return `${functionName}: an update of it is in progress; waiting for it to finish before planning\n`;
}

/** The plan in `--json` output: same masking as the text. */
export function planToJson(plan: FunctionPlan): Record<string, unknown> {
  return {
    function: plan.functionName,
    runtime: plan.runtime ?? null,
    architecture: plan.architecture,
    status: plan.status,
    refusals: plan.refusals.map((refusal) => ({ kind: refusal.kind, message: renderRefusal(refusal) })),
    layers: { before: plan.layersBefore, after: plan.layersAfter },
    environment: plan.envChanges.map((change) => ({
      name: change.name,
      before: shownValue(change.name, change.before) ?? null,
      after: shownValue(change.name, change.after) ?? null,
      ...(plan.envOrigins[change.name] !== undefined ? { source: plan.envOrigins[change.name] } : {}),
    })),
    kept: plan.envKeptExtension.map((name) => ({ name, source: 'function' })),
    ...(plan.secretAccess !== undefined
      ? {
          iamPolicy: {
            roleName: plan.secretAccess.roleName ?? null,
            roleArn: plan.secretAccess.roleArn ?? null,
            document: policyDocument(plan.secretAccess.statement),
          },
        }
      : {}),
    ...(plan.note !== undefined ? { note: plan.note } : {}),
  };
}
