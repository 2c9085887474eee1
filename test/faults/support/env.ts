/**
 * The fault suite's two forms. Short (default, fits CI): a 30 s receiver outage and 40 s of hostile
 * receivers. Full (`FAULTS_FULL=1`): the 2-minute outage of issue #8 and 2 minutes of hostile
 * receivers. The 15-minute soak is neither: it runs by hand (`npm run soak`).
 */
export const FULL = process.env.FAULTS_FULL === '1';

/** Seconds the receiver is down in the outage case. */
export const OUTAGE_SECONDS = Number(process.env.FAULTS_OUTAGE_SECONDS ?? (FULL ? 120 : 30));
/** Minutes of the soak (test/faults/soak.ts). */
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
