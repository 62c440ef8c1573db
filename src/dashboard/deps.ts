import type { GrafanaFetch } from './grafana-upload.js';

/**
 * What `dashboard` and `rules` need from the outside world. The CLI entry passes the real ones; tests
 * pass a fetch aimed at a fake Grafana on loopback and files in a temporary directory.
 */
export interface DashboardDeps {
  readonly fetch: GrafanaFetch;
  readonly readTextFile: (path: string) => Promise<string>;
  readonly writeTextFile: (path: string, text: string) => Promise<void>;
}
