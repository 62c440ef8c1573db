import type { IAMClient } from '@aws-sdk/client-iam';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SecretReader } from '../../extension/secret-reader.js';
import type { LayerBuilder } from '../layer/builder.js';
import type { WaiterTiming } from './waiter-timing.js';

/**
 * What the AWS commands need from the outside world. The CLI entry builds the real ones; tests pass
 * `mockClient(LambdaClient)`-backed clients, a fake build, an instant sleep and a scripted prompt.
 * The client factories are async so that the CLI loads the AWS SDK only when a command uses it.
 */
export interface AwsDeps {
  readonly createLambdaClient: (region: string, profile: string | undefined) => Promise<LambdaClient>;
  readonly createS3Client: (region: string, profile: string | undefined) => Promise<S3Client>;
  /** For --check-permissions (iam:SimulatePrincipalPolicy); absent, the check says it cannot tell. */
  readonly createIamClient?: (region: string, profile: string | undefined) => Promise<IAMClient>;
  /** check FUNCTION: reads a Loki credential kept in AWS with the caller's credentials. */
  readonly createSecretReader?: (region: string, profile: string | undefined) => Promise<SecretReader>;
  readonly buildLayers: LayerBuilder;
  readonly sleep: (ms: number) => Promise<void>;
  readonly waiter: WaiterTiming;
  /** How long --functions-regex and --exclude-regex may take over a region's names (name-pattern.ts). */
  readonly namePatternBudgetMs: number;
  /** True when a person can answer a prompt (stdin and stderr are terminals). */
  readonly interactive: boolean;
  readonly confirm: (question: string) => Promise<boolean>;
  /**
   * A signal aborted on Ctrl-C, asked for only while changes are applied: the update in progress
   * finishes, the rest are not started, and the report says which were updated.
   */
  readonly interrupted: () => AbortSignal;
}
