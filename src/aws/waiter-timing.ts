// Apart from functions.ts so that the CLI entry can name the default without loading the AWS SDK.

/** How long to wait for Lambda to finish applying an update (seconds, as the SDK waiter takes them). */
export interface WaiterTiming {
  readonly minDelaySeconds: number;
  readonly maxDelaySeconds: number;
  readonly maxWaitSeconds: number;
}

export const WAITER_TIMING_DEFAULT: WaiterTiming = {
  minDelaySeconds: 1,
  maxDelaySeconds: 10,
  maxWaitSeconds: 600,
};
