import type { UploadOutcome } from '../dashboard/grafana-upload.js';

type Failure = Extract<UploadOutcome, { ok: false }>;
type Success = Extract<UploadOutcome, { ok: true }>;

/** One line per effect: the folder when it was created, then the dashboard and where to open it. */
export function renderUploadSuccess(outcome: Success, title: string): string {
  const lines: string[] = [];
  if (outcome.folder?.created) lines.push(`Created folder "${outcome.folder.title}" in Grafana.`);
  const where = outcome.folder === undefined ? '' : ` in folder "${outcome.folder.title}"`;
  const version = outcome.version === undefined ? '' : ` (version ${outcome.version})`;
  const verb =
    outcome.action === 'created' ? 'Created' : outcome.action === 'updated' ? 'Updated' : 'Unchanged:';
  lines.push(`${verb} dashboard "${title}"${where}${version}: ${outcome.url}`);
  return `${lines.join('\n')}\n`;
}

/** What went wrong and what to do about it; never the token. */
export function renderUploadFailure(failure: Failure, grafanaUrl: string): string {
  const said = failure.message === '' ? '' : `: ${failure.message}`;
  if (failure.status === 0) return `cannot reach Grafana at ${grafanaUrl} (${failure.step})${said}`;
  const status = `Grafana answered ${failure.status} to "${failure.step}"${said}`;
  switch (failure.status) {
    case 401:
      return `${status}. The token was refused: check --grafana-token-file (a service account token of this Grafana and organization).`;
    case 403:
      return `${status}. The token is valid but may not do this: give its service account the Editor role (or write access to the folder).`;
    case 412:
      return failure.reason === 'version-mismatch'
        ? `${status}. The dashboard was changed in Grafana while uploading; run the command again.`
        : failure.reason === 'name-exists'
          ? `${status}. Another dashboard in that folder has the same title; rename or move it, or choose another --folder.`
          : `${status}.`;
    default:
      return `${status}.`;
  }
}

/** After `--out`. */
export function renderWritten(what: string, path: string): string {
  return `Wrote the ${what} to ${path}\n`;
}

/** `cannot write FILE: reason`. */
export function renderWriteFailure(path: string, cause: unknown): string {
  return renderFileFailure('write', path, cause);
}

/** `cannot VERB FILE: reason`, with the usual errno codes in words. */
export function renderFileFailure(verb: string, path: string, cause: unknown): string {
  return `cannot ${verb} ${path}: ${fileErrorReason(cause)}`;
}

function fileErrorReason(cause: unknown): string {
  const code = (cause as { code?: unknown }).code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  return cause instanceof Error ? cause.message : String(cause);
}
