/**
 * What differs between the Lambdas the emulator plays (DESIGN.md §6), as pure rules: which
 * registrations and subscriptions each one refuses, and how it answers what it does not support.
 */
import type { InitializationType } from './lambda-events.js';
import type { TelemetrySubscription } from './lambda-subscription.js';

export const SandboxMode = {
  /** AWS Lambda itself. */
  lambda: 'lambda',
  /** aws-lambda-rie (sam local, the Lambda base images, LocalStack): no Telemetry or Logs API. */
  rie: 'rie',
  /** Lambda Managed Instances: long-lived, concurrent, never frozen. */
  managedInstances: 'managed-instances',
} as const;
export type SandboxMode = (typeof SandboxMode)[keyof typeof SandboxMode];

/** The only Telemetry API schema Lambda Managed Instances accepts. */
export const MANAGED_INSTANCES_SCHEMA_VERSION = '2025-01-29';
/** Hosts a Managed Instances subscription may name as its destination. */
const MANAGED_INSTANCES_DESTINATION_HOSTS = ['sandbox.localdomain', 'sandbox'];

/** aws-lambda-rie's answers (HTTP 202) to a Telemetry API or Logs API subscription. */
export const TELEMETRY_NOT_SUPPORTED = {
  errorMessage: 'Telemetry API is not supported',
  errorType: 'Telemetry.NotSupported',
} as const;
export const LOGS_NOT_SUPPORTED = {
  errorMessage: 'Logs API is not supported',
  errorType: 'Logs.NotSupported',
} as const;

export interface Refusal {
  readonly status: number;
  readonly errorType: string;
  readonly errorMessage: string;
}

export function initializationTypeOf(mode: SandboxMode, snapStart: boolean): InitializationType {
  if (mode === SandboxMode.managedInstances) return 'lambda-managed-instances';
  return snapStart ? 'snap-start' : 'on-demand';
}

/** Managed Instances refuse INVOKE: extensions there register for SHUTDOWN only. */
export function registrationRefusal(mode: SandboxMode, events: readonly string[]): Refusal | undefined {
  if (mode !== SandboxMode.managedInstances || !events.includes('INVOKE')) return undefined;
  return {
    status: 403,
    errorType: 'Extension.InvalidEventType',
    errorMessage: 'INVOKE: extensions of Lambda Managed Instances may register for SHUTDOWN only',
  };
}

/** Managed Instances: schema 2025-01-29 only, a sandbox destination, and only during init. */
export function subscriptionRefusal(
  mode: SandboxMode,
  subscription: TelemetrySubscription,
  duringInit: boolean,
): Refusal | undefined {
  if (mode !== SandboxMode.managedInstances) return undefined;
  if (subscription.schemaVersion !== MANAGED_INSTANCES_SCHEMA_VERSION) {
    return {
      status: 400,
      errorType: 'ValidationError',
      errorMessage: `schemaVersion must be ${MANAGED_INSTANCES_SCHEMA_VERSION} on Lambda Managed Instances`,
    };
  }
  const host = new URL(subscription.destination.URI).hostname;
  if (!MANAGED_INSTANCES_DESTINATION_HOSTS.includes(host)) {
    return {
      status: 400,
      errorType: 'ValidationError',
      errorMessage: `destination.URI host must be one of ${MANAGED_INSTANCES_DESTINATION_HOSTS.join(', ')}`,
    };
  }
  if (!duringInit) {
    return {
      status: 403,
      errorType: 'Telemetry.SubscriptionClosed',
      errorMessage: 'Telemetry API subscription is closed',
    };
  }
  return undefined;
}
