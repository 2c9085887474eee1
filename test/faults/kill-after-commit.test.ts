/**
 * The hazard of ARCHITECTURE.md "a commit and the signal that follows it are not atomic": the API
 * process dies right after a publish commit, before it signals the subscribers that commit found
 * idle. The test hook HOOKLINE_TEST_KILL_AFTER_COMMITS=N (src/main.ts) makes the process SIGKILL
 * itself right after its N-th commit, before the commit's wakes are handed over. Nothing else would
 * ever wake those subscribers: only the store's record of the owed wake, which a reconciler re-sends
 * after OWED_GRACE_MS.
 */
import { until } from './support/env';
import { startFaultCase, type FaultCase, type FaultProcess } from './support/harness';
import { logTimes } from './support/service';

/** The commit that kills: the first one (a warm-up publish) leaves every subscriber idle again. */
const KILL_AT_COMMIT = 2;
/** Events of the warm-up publish (commit 1), of the killing one (commit 2), and published after. */
const WARM_UP = 5;
const KILLED = 10;
const AFTER = 20;
/**
 * ms to wait for the killed commit's delivery before giving up: a bound of the wait, not a claim
 * about speed. The delay itself is reported (killToDeliveredMs), never asserted.
 */
const DELIVERY_WAIT_MS = 180_000;

type Shape = 'api and worker apart' | 'all in one';

describe('SIGKILL between a publish commit and its wake signal', () => {
  let fc: FaultCase | null = null;

  afterEach(async () => {
    await fc?.cleanup();
    fc = null;
  });

  it.each<[Shape]>([['api and worker apart'], ['all in one']])(
    '%s: the commit answered nothing, yet the reconciler delivers its events to every idle subscriber, in order',
    async (shape) => {
      const apart = shape === 'api and worker apart';
      const c = (fc = await startFaultCase({
        name: apart ? 'kill-after-commit' : 'kill-after-commit-all-in-one',
        service: { kind: 'processes' },
      }));
      const { ledger, receiver } = c;
      const kill = { HOOKLINE_TEST_KILL_AFTER_COMMITS: String(KILL_AT_COMMIT) };
      // Separate: the worker (and its reconciler) lives on, only the API dies. All in one: the new
      // process's reconciler finds what the dead one owed.
      const worker = apart ? await c.start('worker') : null;
      let api: FaultProcess = await c.start(apart ? 'api' : 'all', { env: kill });
      await c.subscribe('/one', { maxBatchSize: 1 });
      await c.subscribe('/ten', { maxBatchSize: 10 });
      await c.subscribe('/hundred', { maxBatchSize: 100 });

      // Commit 1: every subscriber delivers it and goes idle (the store marks it so).
      const warmUp = c.producer({ prefix: 'warm', batchSize: WARM_UP, maxEvents: WARM_UP });
      await warmUp.waitForAccepted(WARM_UP, 30_000);
      await until(() => ledger.outstanding(receiver.posts) === 0, 60_000, 'the warm-up delivered');
      await warmUp.stop();
      // Acknowledged is not yet recorded: the store marks a queue idle when it records the attempt.
      await until(async () => (await c.queued()) === 0, 60_000, 'the warm-up recorded in the store');

      // Commit 2 owes a wake to every subscriber, and the process dies before sending one. The
      // producer gets no answer and sends the same request again until a new API answers it.
      const killed = c.producer({ prefix: 'killed', batchSize: KILLED, maxEvents: KILLED });
      expect(await api.exited).toBe('SIGKILL');
      const killedAt = Date.now();
      const postsAtKill = receiver.posts.length;
      api = await c.start(apart ? 'api' : 'all', { port: api.port! });
      const restartMs = Date.now() - killedAt;
      await killed.waitForAccepted(KILLED, 60_000);
      await killed.stop();
      // Every event of the retried request was a duplicate: commit 2 did happen before the kill.
      expect(killed.duplicates).toBe(KILLED);
      expect(killed.retries.connection).toBeGreaterThan(0);

      const killedIds = Array.from({ length: KILLED }, (_, i) => `killed-${i}`);
      let settledAt: number | null = null;
      await until(
        () => (settledAt = ledger.settledAt(receiver.posts, killedIds)) !== null,
        DELIVERY_WAIT_MS,
        'the killed commit delivered to every subscriber',
      );
      const deliveryMs = settledAt! - killedAt;
      const firstPostAfterKill = receiver.posts[postsAtKill]?.at ?? null;
      // The wake was never sent, and a retried publish of stored ids owes none: what delivered the
      // commit is the reconciler of the surviving worker (or of the new process) re-sending the wake
      // the store still owed. No POST of the killed events comes before its first re-send.
      const resends = logTimes((apart ? worker! : api).output(), 'sent wakes the store owed').filter(
        (t) => t >= killedAt,
      );
      expect(resends.length).toBeGreaterThan(0);
      const killedSet = new Set(killedIds);
      const firstKilledPost = receiver.posts.find((p) => p.eventIds.some((id) => killedSet.has(id)))!;
      expect(firstKilledPost.at).toBeGreaterThanOrEqual(resends[0]!);

      // Publishing goes on as usual afterwards, behind what the dead process committed.
      const after = c.producer({ prefix: 'after', batchSize: 5, maxEvents: AFTER });
      await after.waitForAccepted(AFTER, 30_000);
      const verdict = await c.drain({
        recoveredAt: killedAt,
        timeoutMs: 60_000,
        extra: {
          shape,
          killAtCommit: KILL_AT_COMMIT,
          eventsInKilledCommit: KILLED,
          restartMs,
          firstPostAfterKillMs: firstPostAfterKill === null ? null : firstPostAfterKill - killedAt,
          killToFirstResendMs: resends[0]! - killedAt,
          killToDeliveredMs: deliveryMs,
        },
      });
      expect(verdict.violations).toEqual([]);
      expect(ledger.accepted.length).toBe(WARM_UP + KILLED + AFTER);
      expect(verdict.total.delivered).toBe(ledger.accepted.length * c.subscriptions.length);
    },
  );
});
