/**
 * One fault case on the stack, under load, with the ledger check of the fault suite (its Ledger,
 * Producer and FaultReceiver, imported as they are): producers publish through both API processes
 * in turn (a request that fails goes to the other API next), a loopback receiver acknowledges every
 * batch after a delay so a backlog is in flight when the fault comes, and at the end every accepted
 * event must have reached every subscription once, in publish order, duplicates only as whole
 * batches re-sent under their webhook-id.
 */
import { randomBytes } from 'node:crypto';
import { sleep, until } from '../../faults/support/env';
import { Ledger, type Verdict } from '../../faults/support/ledger';
import { Producer } from '../../faults/support/producer';
import { FaultReceiver } from '../../faults/support/receiver';
import { api, deadLetterKeys, subscribe } from '../../faults/support/service';
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
  figures: Record<string, unknown>;
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

/** The first API that answers /healthz (a case may have killed one). */
async function liveUrl(urls: string[]): Promise<string> {
  for (const url of urls) {
    const ok = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5_000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return url;
  }
  throw new Error(`no API answers: ${urls.join(', ')}`);
}

/** Runs the case to the end; the caller asserts on the verdict. Cleans up after itself either way. */
export async function runCase(o: CaseOptions): Promise<CaseResult> {
  const { urls, key } = stackHookline();
  const run = randomBytes(4).toString('hex');
  const type = `stack.${o.name}.${run}`;
  const receiver = await FaultReceiver.start();
  receiver.behave = () => ({ kind: 'answer', status: 200, delayMs: o.receiverDelayMs ?? 50 });
  const subscriptions: string[] = [];
  const startedAt = Date.now();
  try {
    for (const size of BATCH_SIZES) {
      subscriptions.push(
        await subscribe(urls[subscriptions.length % urls.length]!, key, `${receiver.url}/${o.name}-${size}`, {
          eventTypes: [type],
          maxBatchSize: size,
          description: TEST_DESCRIPTION,
        }),
      );
    }
    const ledger = new Ledger();
    let turn = 0;
    let faultOn = false;
    const producer = new Producer({
      // Each attempt goes to the next API: a request the dead one refused is sent to the other.
      baseUrl: () => urls[turn++ % urls.length]!,
      apiKey: key,
      prefix: `${o.name}-${run}`,
      type,
      batchSize: 20,
      ratePerSecond: o.ratePerSecond,
      maxEvents: o.total,
      subscriptions: () => subscriptions,
      ledger,
      requestTimeoutMs: 30_000,
    });
    producer.faultActive = () => faultOn;
    producer.start();
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
    const deadline = Date.now() + (o.drainTimeoutMs ?? 240_000);
    while (ledger.outstanding(receiver.posts) > 0 && Date.now() < deadline) await sleep(250);
    // A batch whose answer was lost is sent again after its attempt times out: stragglers get a moment.
    await sleep(2_000);
    const dead = await deadLetterKeys(await liveUrl(urls), key, subscriptions);
    const verdict = ledger.check(receiver.posts, dead);
    const f = verdict.total;
    const figures = {
      eventsSent: ledger.accepted.length,
      subscriptions: subscriptions.length,
      deliveriesOwed: f.expected,
      delivered: f.delivered,
      deadLettered: f.dead,
      duplicatePosts: f.duplicatePosts,
      duplicateEvents: f.duplicateEvents,
      failedAttempts: f.failedPosts,
      posts: f.posts,
      inFlightAtFault,
      // From the fault's end to the last first delivery; and the longest stall of any subscription.
      drainMs: verdict.lastDeliveryAt === null ? null : Math.max(0, verdict.lastDeliveryAt - recoveredAt),
      afterLastPublishMs:
        verdict.lastDeliveryAt === null ? null : Math.max(0, verdict.lastDeliveryAt - publishedAt),
      longestStallMs: longestGapMs(receiver, subscriptions, faultAt),
      totalMs: (verdict.lastDeliveryAt ?? Date.now()) - startedAt,
      publishRetries: producer.retries,
      acceptedDuringFault: producer.acceptedDuringFault,
      slowestPublishMs: producer.slowestMs,
      violations: verdict.violations.length,
      ...extra,
    };
    reportCase(o.name, figures);
    return { verdict, ctx, figures };
  } finally {
    Producer.abortAll();
    const url = await liveUrl(urls).catch(() => null);
    for (const id of url ? subscriptions : []) {
      await api(url!, key, 'DELETE', `/v1/subscriptions/${id}`).catch(() => undefined);
    }
    await receiver.close();
  }
}
