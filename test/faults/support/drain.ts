import { sleep } from './env';
import type { Ledger, Verdict } from './ledger';
import type { Producer, RetryCounts } from './producer';
import type { FaultReceiver } from './receiver';
import { reportCase } from './results';
import { deadLetterKeys } from './service';

/** A case's figures as reported: what this run saw, never asserted by the report itself. */
export type CaseFigures = Record<string, unknown>;

/** Where a suite writes a case's figures (the fault suite's results, or the stack's). */
export type ReportCase = (name: string, figures: CaseFigures) => void;

export interface DrainOptions {
  /** Case name in the results. */
  name: string;
  ledger: Ledger;
  receiver: FaultReceiver;
  /** Every producer of the case: stopped first, their retries summed in the report. */
  producers: Producer[];
  /** The API to read dead letters through, asked once the drain is over (a case may have killed one). */
  apiUrl: () => string | Promise<string>;
  apiKey: string;
  subscriptions: string[];
  /** ms since the epoch when the fault ended (service ready again, receiver back): drain time starts. */
  recoveredAt: number;
  /** ms since the epoch when the case started. */
  startedAt: number;
  timeoutMs: number;
  /** More figures for the report; a function is called with the verdict, after the drain. */
  extra?: CaseFigures | ((verdict: Verdict) => CaseFigures);
  /** Default: the fault suite's results (test/faults/results). */
  report?: ReportCase;
}

/**
 * Stops the producers, waits until every accepted event is acknowledged by the receiver (or the time
 * runs out), lets late duplicates arrive, then checks the ledger and reports the case's figures.
 * The caller asserts `violations` is empty.
 */
export async function drainAndCheck(o: DrainOptions): Promise<Verdict & { figures: CaseFigures }> {
  for (const p of o.producers) await p.stop();
  const deadline = Date.now() + o.timeoutMs;
  while (o.ledger.outstanding(o.receiver.posts) > 0 && Date.now() < deadline) await sleep(250);
  // A batch whose answer was lost is re-sent after its attempt times out: give stragglers a moment.
  await sleep(2_000);
  const dead = await deadLetterKeys(await o.apiUrl(), o.apiKey, o.subscriptions);
  const verdict = o.ledger.check(o.receiver.posts, dead);
  const f = verdict.total;
  const figures: CaseFigures = {
    eventsSent: o.ledger.accepted.length,
    subscriptions: o.subscriptions.length,
    deliveriesOwed: f.expected,
    delivered: f.delivered,
    deadLettered: f.dead,
    duplicatePosts: f.duplicatePosts,
    duplicateEvents: f.duplicateEvents,
    failedAttempts: f.failedPosts,
    posts: f.posts,
    drainMs: verdict.lastDeliveryAt === null ? null : Math.max(0, verdict.lastDeliveryAt - o.recoveredAt),
    totalMs: (verdict.lastDeliveryAt ?? Date.now()) - o.startedAt,
    publishRetries: sumRetries(o.producers),
    slowestPublishMs: Math.max(0, ...o.producers.map((p) => p.slowestMs)),
    violations: verdict.violations.length,
    ...(typeof o.extra === 'function' ? o.extra(verdict) : o.extra),
  };
  (o.report ?? reportCase)(o.name, figures);
  return { ...verdict, figures };
}

function sumRetries(producers: readonly Producer[]): RetryCounts {
  const sum: RetryCounts = { connection: 0, timeout: 0, backoff: 0, serverError: 0 };
  for (const p of producers)
    for (const k of Object.keys(sum) as (keyof RetryCounts)[]) sum[k] += p.retries[k];
  return sum;
}
