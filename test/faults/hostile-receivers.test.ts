import { FULL, sleep, until } from './support/env';
import { startFaultCase, type FaultCase } from './support/harness';
import type { Behaviour, Post } from './support/receiver';
import { rssMb } from './support/service';

/** Seconds the three hostile receivers misbehave. */
const HOSTILE_SECONDS = Number(process.env.FAULTS_HOSTILE_SECONDS ?? (FULL ? 120 : 40));
/** Bytes of the big body: 50 MB. */
const BIG = 50 * 1024 * 1024;
/** ms: the delivery timeout of API.md (15 s), plus scheduling slack for a loaded 2-core machine. */
const ATTEMPT_LIMIT_MS = 15_000 + 5_000;
/**
 * MB the service's RSS may grow from its warmed-up level while the hostile receivers run. A client
 * that read the 50 MB body, or kept reading the endless one (gigabytes in 15 s on loopback), would
 * pass this on its first attempt; the ordinary growth of a busy Node process stays well under it.
 */
const RSS_GROWTH_LIMIT_MB = 100;
/**
 * MB of a hostile body the receiver may have handed to its socket per attempt: the sender reads
 * 64 KiB; loopback socket buffers on both ends and Node's write buffer take a few MB more.
 */
const BODY_OUT_LIMIT_MB = 16;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe('hostile receivers: one hangs, one streams an endless body, one sends 50 MB', () => {
  let fc: FaultCase;

  afterAll(async () => {
    await fc?.cleanup();
  });

  it('bounds every attempt, keeps the worker’s memory flat and the healthy subscription delivering', async () => {
    // API and worker in one process, against the shared dev server: its RSS is the worker's.
    fc = await startFaultCase({ name: 'hostile-receivers', service: { kind: 'processes' } });
    const { ledger, receiver } = fc;
    const service = await fc.start('all', { timeoutMs: 120_000 });
    let hostile = false;
    const hostileBehaviour: Record<string, Behaviour> = {
      '/hang': { kind: 'hang' },
      '/endless': { kind: 'endless', status: 500 },
      '/big': { kind: 'big', status: 500, bytes: BIG },
    };
    receiver.behave = (post: Post) =>
      (hostile && hostileBehaviour[post.path]) || { kind: 'answer', status: 200 };
    const paths = ['/healthy', '/hang', '/endless', '/big'];
    const subs: Record<string, string> = {};
    for (const path of paths) subs[path] = await fc.subscribe(path, { maxBatchSize: 10 });
    fc.producer({ prefix: 'ho', batchSize: 5, ratePerSecond: 10 });

    // Warm-up: every subscription delivering, then the service's resting RSS.
    await until(
      () => new Set(receiver.posts.filter((p) => p.answered === 200).map((p) => p.path)).size === 4,
      60_000,
      'deliveries to all four subscriptions',
    );
    const warm: number[] = [];
    for (let i = 0; i < 10; i++) {
      warm.push(rssMb(service.pid)!);
      await sleep(500);
    }
    const rssBefore = median(warm);

    // The hostile phase: sample RSS every second, and the API's readiness.
    hostile = true;
    const hostileFrom = Date.now();
    const hostileFromPost = receiver.posts.length;
    const samples: number[] = [];
    let notReady = 0;
    while (Date.now() - hostileFrom < HOSTILE_SECONDS * 1000) {
      samples.push(rssMb(service.pid)!);
      const ready = await fetch(`${fc.url}/readyz`, { signal: AbortSignal.timeout(5_000) }).catch(() => null);
      if (ready?.status !== 200) notReady++;
      await sleep(1_000);
    }
    hostile = false;
    const hostileUntil = Date.now();
    const during = receiver.posts.slice(hostileFromPost).filter((p) => p.at < hostileUntil);
    const byPath = (path: string) => during.filter((p) => p.path === path);
    const rssPeak = Math.max(...samples);
    const rssEnd = median(samples.slice(-5));

    // The hostile receivers were tried again and again, and every attempt ended within the limit.
    for (const path of ['/hang', '/endless', '/big']) {
      const attempts = byPath(path).filter((p) => p.at < hostileUntil - ATTEMPT_LIMIT_MS);
      expect(attempts.length).toBeGreaterThanOrEqual(2);
      for (const p of attempts) {
        expect(p.closedAt).not.toBeNull();
        expect(p.closedAt! - p.at).toBeLessThan(ATTEMPT_LIMIT_MS);
      }
    }
    // The hanging receiver's attempts were ended by the sender's timeout, not answered.
    expect(byPath('/hang').every((p) => p.answered === null)).toBe(true);
    // The sender stopped reading: the endless body and the 50 MB one were cut short. What the
    // receiver got rid of is what the sender read plus what socket buffers hold (a few MB at most).
    const maxMbOut = (path: string) => Math.max(...byPath(path).map((p) => p.bytesOut)) / 2 ** 20;
    const endlessMaxMb = maxMbOut('/endless');
    const bigMaxMb = maxMbOut('/big');
    expect(endlessMaxMb).toBeLessThan(BODY_OUT_LIMIT_MB);
    expect(bigMaxMb).toBeLessThan(BODY_OUT_LIMIT_MB);
    // The healthy subscription kept delivering the whole time, in the phase's last 10 s too.
    const healthyOk = byPath('/healthy').filter((p) => p.answered === 200);
    expect(healthyOk.length).toBeGreaterThan(HOSTILE_SECONDS / 2);
    expect(healthyOk.some((p) => p.at > hostileUntil - 10_000)).toBe(true);
    expect(notReady).toBe(0);
    expect(rssPeak - rssBefore).toBeLessThan(RSS_GROWTH_LIMIT_MB);

    // What the deliveries log says about the hostile attempts.
    const errors: Record<string, string | null> = {};
    for (const path of ['/hang', '/endless', '/big']) {
      const log = await fc.call('GET', `/v1/subscriptions/${subs[path]}/deliveries?limit=5`);
      expect(log.status).toBe(200);
      const failed = (log.body.data as { statusCode: number | null; error: string | null }[]).find(
        (d) => d.error !== null,
      );
      expect(failed).toBeDefined();
      errors[path] = `${failed!.statusCode ?? '-'} ${failed!.error!.slice(0, 80)}`;
    }
    expect(errors['/hang']).toMatch(/timeout/i);
    expect(errors['/endless']).toMatch(/^500 /);
    expect(errors['/big']).toMatch(/^500 /);

    // The receivers behave again: everything queued behind them drains, in order.
    const recoveredAt = Date.now();
    const verdict = await fc.drain({
      recoveredAt,
      timeoutMs: 180_000,
      extra: {
        hostileSeconds: HOSTILE_SECONDS,
        attemptsDuringHostile: Object.fromEntries(paths.map((p) => [p, byPath(p).length])),
        healthyDeliveriesDuringHostile: healthyOk.length,
        endlessBodyMaxMbWritten: Math.round(endlessMaxMb * 10) / 10,
        bigBodyMaxMbWritten: Math.round(bigMaxMb * 10) / 10,
        lastErrors: errors,
        rssBeforeMb: Math.round(rssBefore),
        rssPeakMb: Math.round(rssPeak),
        rssEndOfHostileMb: Math.round(rssEnd),
        rssAfterDrainMb: Math.round(rssMb(service.pid) ?? 0),
        readyzFailures: notReady,
        rssSamplesMb: samples.map((x) => Math.round(x)),
      },
    });
    expect(verdict.violations).toEqual([]);
    expect(verdict.total.delivered).toBe(ledger.accepted.length * paths.length);

    expect(await service.stop()).toBe(0);
  });
});
