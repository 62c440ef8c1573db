/**
 * Facts about the dashboard that do not need Grafana's SDK (the command and the upload use them;
 * the SDK is loaded only to build the dashboard itself).
 */

/** Template variable names; the queries refer to them as `$name`. */
export const DASHBOARD_VARIABLES = {
  datasource: 'datasource',
  application: 'application',
  environment: 'environment',
  function: 'function',
  pricePerGbSecond: 'price_per_gb_second',
} as const;

/**
 * Lambda's duration price per GB-second, us-east-1, first pricing tier (aws.amazon.com/lambda/pricing):
 * x86_64 $0.0000166667, arm64 $0.0000133334.
 */
export const PRICE_PER_GB_SECOND_USD = { x86_64: 0.0000166667, arm64: 0.0000133334 } as const;

/** Grafana's limit on a dashboard uid. */
export const DASHBOARD_UID_MAX_CHARS = 40;

/**
 * A stable uid, so that uploading again updates the same dashboard: `loki-lambda`, or with the
 * preselected application and environment `loki-lambda-shop-prod` (uid-safe, at most 40 characters).
 */
export function dashboardUid(scope: {
  application?: string | undefined;
  environment?: string | undefined;
}): string {
  const parts = ['loki-lambda', scope.application, scope.environment]
    .filter((part): part is string => part !== undefined && part !== '')
    .map((part) => part.toLowerCase().replace(/[^a-z0-9_-]+/g, '-'));
  return parts.join('-').slice(0, DASHBOARD_UID_MAX_CHARS).replace(/-+$/, '');
}
