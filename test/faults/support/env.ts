/**
 * The fault suite's two forms. Short (default, fits CI): a 24 s receiver outage, no soak. Full
 * (`FAULTS_FULL=1`): the 2-minute outage of issue #8 and the 15-minute soak.
 */
export const FULL = process.env.FAULTS_FULL === '1';

/** Seconds. */
export const OUTAGE_SECONDS = Number(process.env.FAULTS_OUTAGE_SECONDS ?? (FULL ? 120 : 24));
/** Minutes. */
export const SOAK_MINUTES = Number(process.env.FAULTS_SOAK_MINUTES ?? 15);

/** ms to sleep. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `predicate` every `everyMs` until it holds; throws with `what` after `timeoutMs`. */
export async function until(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
  everyMs = 250,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await sleep(everyMs);
  }
}
