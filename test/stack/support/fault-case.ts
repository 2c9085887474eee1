/**
 * One fault case on the stack, under load, run by the fault suite's harness
 * (test/faults/support/harness.ts, service shape `external`: receiver, ledger, producer, drain and
 * its ledger check, clean-up): producers publish through both API processes in turn (a request that
 * fails goes to the other API next), a loopback receiver acknowledges every batch after a delay so a
 * backlog is in flight when the fault comes, and at the end every accepted event must have reached
 * every subscription once, in publish order, duplicates only as whole batches re-sent under their
 * webhook-id. Figures go to test/stack/results.
 */
import { randomBytes } from 'node:crypto';
import type { CaseFigures } from '../../faults/support/drain';
import { until } from '../../faults/support/env';
import { startFaultCase } from '../../faults/support/harness';
import type { Ledger, Verdict } from '../../faults/support/ledger';
import type { Producer } from '../../faults/support/producer';
import type { FaultReceiver } from '../../faults/support/receiver';
import { reportCase } from './results';
import { stackHookline, TEST_DESCRIPTION } from './stack-api';

/** Batch sizes of the case's subscriptions: four of them, so both workers have deliveries to run. */
const BATCH_SIZES = [5, 10, 25, 50];

export interface CaseContext {
  urls: string[];
  key: string;
  ledger: Ledger;
  producer: Producer;
  receiver: FaultReceiver;
  subscriptions: string[];
  /** Marks the fault as on or off (the producer counts 202s received while it is on). */
  setFault(on: boolean): void;
}

export interface CaseOptions {
  name: string;
  /** Events the producer publishes (each to every subscription). */
  total: number;
  /** Events per second the producer aims at, so publishing lasts through the fault. */
  ratePerSecond: number;
  /** ms the receiver takes to answer each POST: deliveries queue up behind it. */
  receiverDelayMs?: number;
  /**
   * The fault, called once the load runs (a third of the events accepted, deliveries flowing). It
   * answers when the fault ended (ms since the epoch: drain time counts from there) and figures.
   */
  fault(ctx: CaseContext): Promise<{ recoveredAt: number; extra?: Record<string, unknown> }>;
  drainTimeoutMs?: number;
}

export interface CaseResult {
  verdict: Verdict;
  ctx: CaseContext;
  /** Figures as reported. */
  figures: CaseFigures;
}

/** Longest time (ms) without an acknowledged POST, per subscription, after `since`; the largest of them. */
function longestGapMs(receiver: FaultReceiver, subscriptions: string[], since: number): number {
  let worst = 0;
  for (const sub of subscriptions) {
    const times = receiver.posts
      .filter((p) => p.subscriptionId === sub && p.answered === 200 && p.at >= since)
      .map((p) => p.at);
    let last = since;
    for (const t of times) {
      worst = Math.max(worst, t - last);
      last = t;
    }
  }
  return worst;
}

/** Runs the case to the end; the caller asserts on the verdict. Cleans up after itself either way. */
export async function runCase(o: CaseOptions): Promise<CaseResult> {
  const { urls, key, tenant } = stackHookline();
  const run = randomBytes(4).toString('hex');
  const type = `stack.${o.name}.${run}`;
  const fc = await startFaultCase({
    name: o.name,
    service: { kind: 'external', urls, key, tenant },
    report: reportCase,
  });
  const { receiver, ledger, subscriptions } = fc;
  receiver.behave = () => ({ kind: 'answer', status: 200, delayMs: o.receiverDelayMs ?? 50 });
  try {
    for (const size of BATCH_SIZES) {
      const via = urls[subscriptions.length % urls.length]!;
      await fc.subscribe(
        `/${o.name}-${size}`,
        { eventTypes: [type], maxBatchSize: size, description: TEST_DESCRIPTION },
        via,
      );
    }
    let turn = 0;
    let faultOn = false;
    const producer = fc.producer({
      // Each attempt goes to the next API: a request the dead one refused is sent to the other.
      url: () => urls[turn++ % urls.length]!,
      prefix: `${o.name}-${run}`,
      type,
      batchSize: 20,
      ratePerSecond: o.ratePerSecond,
      maxEvents: o.total,
      requestTimeoutMs: 30_000,
    });
    producer.faultActive = () => faultOn;
    const ctx: CaseContext = {
      urls,
      key,
      ledger,
      producer,
      receiver,
      subscriptions,
      setFault: (on) => (faultOn = on),
    };

    await until(
      () => producer.sent >= o.total / 3 && receiver.posts.filter((p) => p.answered === 200).length >= 10,
      120_000,
      'load before the fault',
    );
    const inFlightAtFault = ledger.outstanding(receiver.posts);
    const faultAt = Date.now();
    const { recoveredAt, extra } = await o.fault(ctx);
    ctx.setFault(false);

    // The whole load is published before the drain starts, so every case checks `total` events.
    await producer.waitForAccepted(o.total, 180_000);
    await producer.stop();
    const publishedAt = Date.now();
    const { figures, ...verdict } = await fc.drain({
      recoveredAt,
      timeoutMs: o.drainTimeoutMs ?? 240_000,
      extra: (v) => ({
        inFlightAtFault,
        afterLastPublishMs: v.lastDeliveryAt === null ? null : Math.max(0, v.lastDeliveryAt - publishedAt),
        // The longest stall of any subscription, from the fault on.
        longestStallMs: longestGapMs(receiver, subscriptions, faultAt),
        acceptedDuringFault: producer.acceptedDuringFault,
        ...extra,
      }),
    });
    return { verdict, ctx, figures };
  } finally {
    await fc.cleanup();
  }
}
