/** Starts `count` steps at `ratePerSecond` (each awaited; a late step makes the next one start at once). */
export async function paced(
  count: number,
  ratePerSecond: number,
  step: (index: number) => Promise<void>,
): Promise<void> {
  const periodMs = 1000 / ratePerSecond;
  const startedAt = performance.now();
  for (let i = 0; i < count; i++) {
    const waitMs = startedAt + i * periodMs - performance.now();
    if (waitMs > 0) await sleep(waitMs);
    await step(i);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
