/**
 * The soak of issue #8, run by hand (`npm run soak`), never in CI: the whole service (API, worker and
 * its embedded dev server, as `npm start` runs it) takes a moderate, steady publish rate for
 * FAULTS_SOAK_MINUTES (default 15) while the RSS of the service and of its dev server is sampled
 * every few seconds. It prints the slope of each (MB/min, least squares, warm-up left out) and ends
 * with the ledger check of every other case. Figures go to test/faults/results/soak.json.
 *
 * Knobs: FAULTS_SOAK_MINUTES, FAULTS_SOAK_RATE (events/s, default 20), FAULTS_SOAK_SAMPLE_SECONDS (5).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { SOAK_MINUTES, sleep } from './support/env';
import { startFaultCase } from './support/harness';
import { RESULTS_DIR } from './support/results';
import { devServerPid, rssMb } from './support/service';

/** Events per second. */
const RATE = Number(process.env.FAULTS_SOAK_RATE ?? 20);
/** Seconds between RSS samples. */
const SAMPLE_SECONDS = Number(process.env.FAULTS_SOAK_SAMPLE_SECONDS ?? 5);

interface Sample {
  /** Minutes since the load started. */
  minute: number;
  serviceMb: number | null;
  devServerMb: number | null;
  accepted: number;
  delivered: number;
}

/** Least-squares slope of y over x (units of y per unit of x); null with fewer than 3 points. */
export function slope(points: readonly (readonly [number, number])[]): number | null {
  if (points.length < 3) return null;
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? null : num / den;
}

const round = (x: number | null, digits = 2) =>
  x === null ? null : Math.round(x * 10 ** digits) / 10 ** digits;

async function main(): Promise<void> {
  const minutes = SOAK_MINUTES;
  const fc = await startFaultCase({
    name: 'soak',
    service: { kind: 'embedded' },
    env: { LOG_LEVEL: 'warn' },
  });
  process.once('SIGINT', () => void fc.cleanup().then(() => process.exit(130)));

  try {
    const service = await fc.start('all');
    const { ledger, receiver } = fc;
    receiver.behave = () => ({ kind: 'answer', status: 200, delayMs: 20 });
    await fc.subscribe('/ten', { maxBatchSize: 10 });
    await fc.subscribe('/fifty', { maxBatchSize: 50 });
    await fc.subscribe('/hundred', { maxBatchSize: 100 });
    const subs = fc.subscriptions;
    const producer = fc.producer({ prefix: 'soak', batchSize: 10, ratePerSecond: RATE });
    const startedAt = Date.now();
    console.log(
      `soak: ${minutes} min at ${RATE} events/s to ${subs.length} subscriptions, RSS every ${SAMPLE_SECONDS} s`,
    );

    const samples: Sample[] = [];
    while (Date.now() - startedAt < minutes * 60_000) {
      if (producer.error) throw producer.error;
      const dev = devServerPid(fc.dataDir);
      const s: Sample = {
        minute: (Date.now() - startedAt) / 60_000,
        serviceMb: rssMb(service.pid),
        devServerMb: dev ? rssMb(dev) : null,
        accepted: ledger.accepted.length,
        delivered: ledger.accepted.length * subs.length - ledger.outstanding(receiver.posts),
      };
      samples.push(s);
      console.log(
        `  ${s.minute.toFixed(1).padStart(5)} min  service ${s.serviceMb?.toFixed(0)} MB  dev server ${s.devServerMb?.toFixed(0)} MB  accepted ${s.accepted}  delivered ${s.delivered}`,
      );
      await sleep(SAMPLE_SECONDS * 1000);
    }

    const recoveredAt = Date.now();
    const verdict = await fc.drain({
      recoveredAt,
      timeoutMs: 300_000,
      extra: { minutes, ratePerSecond: RATE },
    });

    // The first minute (or first fifth of a short run) is warm-up: JIT, pools, caches filling.
    const warmUp = Math.min(1, minutes / 5);
    const steady = samples.filter((s) => s.minute >= warmUp);
    const fit = (key: 'serviceMb' | 'devServerMb') =>
      slope(steady.filter((s) => s[key] !== null).map((s) => [s.minute, s[key]!] as const));
    const figures = {
      at: new Date().toISOString(),
      machine: { cpus: cpus().length, memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version },
      minutes,
      ratePerSecond: RATE,
      sampleSeconds: SAMPLE_SECONDS,
      warmUpMinutes: warmUp,
      serviceRssSlopeMbPerMin: round(fit('serviceMb')),
      devServerRssSlopeMbPerMin: round(fit('devServerMb')),
      serviceRssMb: {
        first: round(steady[0]?.serviceMb ?? null, 0),
        last: round(steady.at(-1)?.serviceMb ?? null, 0),
      },
      devServerRssMb: {
        first: round(steady[0]?.devServerMb ?? null, 0),
        last: round(steady.at(-1)?.devServerMb ?? null, 0),
      },
      eventsSent: ledger.accepted.length,
      /** What the API took: below RATE when publish answers are slower than the pacing asks. */
      achievedRatePerSecond: round(ledger.accepted.length / (minutes * 60), 1),
      deliveriesOwed: verdict.total.expected,
      delivered: verdict.total.delivered,
      duplicateEvents: verdict.total.duplicateEvents,
      violations: verdict.violations,
      samples,
    };
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(join(RESULTS_DIR, 'soak.json'), `${JSON.stringify(figures, null, 2)}\n`);
    console.log(
      `\nsoak: service RSS slope ${figures.serviceRssSlopeMbPerMin} MB/min (${figures.serviceRssMb.first} → ${figures.serviceRssMb.last} MB), ` +
        `dev server ${figures.devServerRssSlopeMbPerMin} MB/min (${figures.devServerRssMb.first} → ${figures.devServerRssMb.last} MB)`,
    );
    console.log(
      `soak: ${figures.eventsSent} events (${figures.achievedRatePerSecond}/s), ${figures.delivered}/${figures.deliveriesOwed} deliveries, ` +
        `${figures.duplicateEvents} duplicate events, ledger ${verdict.violations.length === 0 ? 'OK' : 'VIOLATED'}`,
    );
    for (const v of verdict.violations.slice(0, 20)) console.log(`  violation: ${v}`);
    process.exitCode =
      verdict.violations.length === 0 && verdict.total.delivered === verdict.total.expected ? 0 : 1;
  } finally {
    await fc.cleanup();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
