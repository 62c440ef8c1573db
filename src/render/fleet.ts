import { type FunctionExtras, iacMarker } from '../aws/function-extras.js';

/** What a plan should warn about for a function changed in place: its deployer and its aliases. */
export function planNotes(extras: FunctionExtras | undefined): string[] {
  if (extras === undefined) return [];
  const notes: string[] = [];
  const marker = iacMarker(extras.tags);
  if (marker !== undefined) {
    notes.push(
      `deployed with ${marker.tool} (tag ${marker.tag}): its next deploy puts back the layers and variables it declares; put loki-lambda in the template instead (loki-lambda snippet)`,
    );
  }
  if (extras.aliasesOnVersions.length > 0) {
    const aliases = extras.aliasesOnVersions.map((a) => `${a.name} -> ${a.version}`).join(', ');
    notes.push(
      `this changes $LATEST only; aliases on published versions (${aliases}) keep the old configuration until a new version is published (--publish-version --alias NAME)`,
    );
  }
  return notes;
}

export function renderPlanNotes(notes: readonly string[]): string {
  return notes.map((note) => `  note: ${note}\n`).join('');
}

/** The one progress line of a rollout on a terminal, rewritten in place. */
export function renderRolloutProgress(done: number, total: number, failed: number): string {
  return `\r\x1b[K${done}/${total} done, ${failed} failed`;
}

/** Clears the progress line before a result line is printed under it. */
export const CLEAR_PROGRESS_LINE = '\r\x1b[K';

export function renderPublishedVersion(
  functionName: string,
  version: string,
  alias: string | undefined,
): string {
  return `published  ${functionName} version ${version}${alias === undefined ? '' : `, alias ${alias} moved to it`}\n`;
}

export function renderTagWarning(functionName: string, what: 'tag' | 'untag', message: string): string {
  return `warning: ${functionName}: could not ${what} it ${what === 'tag' ? 'loki-lambda:version' : ''} (${message.trimEnd()}); status --tag cannot find it by that tag\n`;
}
