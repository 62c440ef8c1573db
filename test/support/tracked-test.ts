import { it as base } from 'vitest';

/**
 * `it` with a `track` fixture that closes what a test started when it ends (the sandbox first, then
 * the Loki it pushed to): each test has its own Loki and sandbox, so tests can run side by side.
 */
export const it = base.extend<{ track: <T extends { close(): Promise<void> }>(started: T) => T }>({
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from this pattern (none here).
  track: async ({}, use) => {
    const started: Array<{ close(): Promise<void> }> = [];
    await use((thing) => {
      started.push(thing);
      return thing;
    });
    for (const thing of started.reverse()) await thing.close();
  },
});
