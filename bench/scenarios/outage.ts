/**
 * Issue #14's outage: one subscription, events of 1 KiB arriving at 200/s (2 sequential producer
 * lanes, requests of 10, producer-chosen ids), the endpoint answering 503 to every POST for 10 minutes
 * (30 s with --quick; `--outage-sec` sets it), then recovering. Figures: 503s the producers got (the
 * target is none), the wait from recovery to the first receipt (the delivery's retry back-off), the
 * drain rate after that, the worker's largest RSS, and the ledger: every accepted id received, once,
 * in order per lane.
 */
import { steady } from '../load';
import { nowMs } from '../receiver';
import { registerSubscriptions } from '../load';
import { historyEvents } from '../temporal-cost';
import {
  log,
  round1,
  sleep,
  summarizeLatency,
  temporalCost,
  type CaseResult,
  type Scenario,
} from '../support';

const LANES = 2;
const PER_REQUEST = 10;
const EVENTS_PER_SEC = 200;
const EVENT_BYTES = 1024;

export const outage: Scenario = async ({ env, quick, outageSec }) => {
  const outageMs = (outageSec ?? (quick ? 30 : 600)) * 1000;
  const beforeMs = 3_000;
  // The back-off after a long outage may wait minutes before the first retry.
  const drainLimitMs = Math.max(240_000, outageMs * 1.5);
  const tenant = env.tenant('outage');
  const label = `1 sub, ${EVENTS_PER_SEC} ev/s of 1 KiB, endpoint 503 for ${outageMs / 1000} s`;
  const registered = await registerSubscriptions(
    env.api,
    tenant,
    [{ url: env.receiver.url('/out/0'), eventTypes: ['out.ping'] }],
    1,
  );
  const receiver = env.receiver;
  receiver.reset({ delayMs: 0, trackIds: false, perPath: true, ledger: true });

  const expected: string[] = [];
  const run = Date.now().toString(36);
  let stopped = false;
  let refused = 0;
  let accepted = 0;
  const historyAt = await historyEvents(env.client, tenant);

  log(`outage: ${label}: ${beforeMs / 1000} s normal, then the outage, then the drain`);
  const { value, resources } = await env.measure(async () => {
    const producing = steady(env.api, tenant, {
      lanes: LANES,
      eventsPerSec: EVENTS_PER_SEC,
      shape: {
        perRequest: PER_REQUEST,
        typeOf: () => 'out.ping',
        idOf: (lane, k) => `out-${run}-${lane}-${k}`,
        dataBytes: EVENT_BYTES,
      },
      stop: () => stopped,
      onAccepted: (ids) => {
        accepted += ids.length;
        expected.push(...ids);
      },
      onRefused: () => refused++,
    });
    await sleep(beforeMs);
    receiver.failing = true;
    log('outage: the endpoint answers 503 from now on');
    const progress = setInterval(() => log(`outage: ${accepted} accepted, ${refused} refused`), 60_000);
    await sleep(outageMs);
    clearInterval(progress);
    stopped = true;
    const stats = await producing;
    receiver.failing = false;
    const recoveredAt = nowMs();
    const receivedAtRecovery = receiver.stats.events;
    const backlog = accepted - receivedAtRecovery;
    log(`outage: the endpoint is back, ${backlog} events waiting`);
    let firstAt: number | null = null;
    while (receiver.stats.events < accepted && nowMs() - recoveredAt < drainLimitMs) {
      if (firstAt === null && receiver.stats.events > receivedAtRecovery) firstAt = receiver.stats.lastAt;
      await sleep(5);
    }
    if (firstAt === null && receiver.stats.events > receivedAtRecovery) firstAt = receiver.stats.firstAt;
    return { stats, recoveredAt, firstAt, backlog, receivedAtRecovery };
  });
  const historyTo = await historyEvents(env.client, tenant);

  const got = receiver.stats.paths.get('/out/0')?.ids ?? new Set<string>();
  const want = new Set(expected);
  let missing = 0;
  let unknown = 0;
  for (const id of want) if (!got.has(id)) missing++;
  for (const id of got) if (!want.has(id)) unknown++;
  const s = receiver.stats;
  const drainedAt = s.events >= accepted ? s.lastAt : null;
  const firstSec = value.firstAt !== null ? round1((value.firstAt - value.recoveredAt) / 1000) : null;
  const drainSec =
    drainedAt !== null && value.firstAt !== null ? round1((drainedAt - value.firstAt) / 1000) : null;
  const drainRate = drainSec !== null && drainSec > 0 ? Math.round((value.backlog - 0) / drainSec) : null;
  const ledgerOk = missing === 0 && unknown === 0 && s.duplicates === 0 && s.outOfOrder === 0;
  const row: CaseResult = {
    scenario: 'outage',
    case: label,
    params: {
      eventsPerSec: EVENTS_PER_SEC,
      eventBytes: EVENT_BYTES,
      perRequest: PER_REQUEST,
      lanes: LANES,
      outageSec: outageMs / 1000,
    },
    events: accepted,
    eventsPerSec: drainRate ?? undefined,
    publishedPerSec: Math.round(accepted / ((beforeMs + outageMs) / 1000)),
    posts: s.posts,
    meanBatchFill: s.posts > 0 ? round1(s.events / s.posts) : undefined,
    wallSec: drainSec ?? undefined,
    refusals: refused,
    outOfOrder: s.outOfOrder,
    resources,
    temporal: temporalCost(resources, s.events, historyTo.events - historyAt.events),
    note:
      `outage (${outageMs / 1000} s): ${accepted} events accepted, ${refused} requests refused; ` +
      `${value.backlog} waiting at recovery; first receipt ${firstSec ?? 'never'} s after recovery ` +
      `(retry back-off), then drained in ${drainSec ?? 'NOT'} s (${drainRate ?? '-'} events/s); ` +
      `ledger ${ledgerOk ? 'OK' : 'FAILED'}: ${s.events} received, ${missing} missing, ${unknown} unexpected, ` +
      `${s.duplicates} duplicates, ${s.outOfOrder} out of order; ${s.refused} POSTs answered 503 during the outage`,
    extra: {
      backlogAtRecovery: value.backlog,
      firstReceiptAfterRecoverySec: firstSec,
      drainSec,
      drainRate,
      ledger: {
        accepted,
        received: s.events,
        missing,
        unknown,
        duplicates: s.duplicates,
        outOfOrder: s.outOfOrder,
      },
      endpointRefusedPosts: s.refused,
      publishErrors: value.stats.errors,
      ack: summarizeLatency(value.stats.ack),
      historyEvents: historyTo.events - historyAt.events,
      workflowRuns: historyTo.runs,
      registrationSec: round1(registered.seconds),
    },
  };
  return [row];
};
