/** Replaced by the package version when the extension is bundled (esbuild `define`, src/layer/bundle.ts). */
declare const __LOKI_LAMBDA_VERSION__: string | undefined;

/** The package version this extension was built from; `dev` when run from sources. */
export const EXTENSION_VERSION: string =
  typeof __LOKI_LAMBDA_VERSION__ === 'string' ? __LOKI_LAMBDA_VERSION__ : 'dev';

/** promtail-style: the product and its version first, so a Loki operator can tell who pushes. */
export function userAgent(nodeVersion: string): string {
  return `loki-lambda/${EXTENSION_VERSION} (node ${nodeVersion})`;
}
