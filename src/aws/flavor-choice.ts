import { AMAZON_LINUX_2_RUNTIMES, type Flavor, SLIM_RUNTIMES } from '../layer/targets.js';

/** What the flavor depends on, from GetFunctionConfiguration. */
export interface FlavorInputs {
  readonly runtime: string | undefined;
  /**
   * The capacity provider of a Lambda Managed Instances function (CapacityProviderConfig). The
   * extension adapts to Managed Instances at run time, so every flavor serves them: the runtime
   * alone decides (Managed Instances run Amazon Linux 2023 runtimes).
   */
  readonly capacityProviderArn?: string | undefined;
}

/**
 * The flavor a function needs: its own Node when it has one (slim); Bun on Amazon Linux 2, whose
 * glibc 2.26 is too old for official Node binaries (al2); otherwise a bundled Node (standalone).
 */
export function flavorFor({ runtime }: FlavorInputs): Flavor {
  if (runtime !== undefined && (SLIM_RUNTIMES as readonly string[]).includes(runtime)) return 'slim';
  if (runtime !== undefined && (AMAZON_LINUX_2_RUNTIMES as readonly string[]).includes(runtime)) return 'al2';
  return 'standalone';
}
