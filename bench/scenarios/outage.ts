/**
 * A receiver outage under load: 10 subscriptions, a steady producer (producer-chosen ids, so a refused
 * request is sent again safely), and the receiver answering 503 (no Retry-After) to every POST for
 * 30 s (5 s with --quick), then recovering. Figures: events published during the outage, 503s the
 * producer got (a backlog full), the first receipt and the drain after recovery, and a ledger check:
 * every accepted id received by its subscription, once, in order per producer lane.
 */
import { steady } from '../load';
import { nowMs } from '../receiver';
import { registerSubscriptions } from '../load';
import { log, sleep, summarizeLatency, type CaseResult, type Scenario } from '../support';

const SUBS = 10;
/**
 * 100 events/s in requests of 10 from 8 sequential lanes (each waits for its answer, so order per
 * lane is defined): producer-chosen ids cost the API a record each, so this is far from its peak.
 */
const LANES = 8;
const PER_REQUEST = 10;
const EVENTS_PER_SEC = 100;
/** After recovery, how long the drain may take before the case fails (the back-off may wait ~30 s). */
const DRAIN_LIMIT_MS = 180_000;

const round1 = (n: number) => Math.round(n * 10) / 10;

export const outage: Scenario = async ({ env, quick }) => {
  const outageMs = quick ? 5_000 : 30_000;
  const beforeMs = quick ? 1_500 : 5_000;
  const afterMs = quick ? 1_500 : 5_000;
  const tenant = env.tenant('outage');
  const label = `${SUBS} subs, ${EVENTS_PER_SEC} ev/s, receiver 503 for ${outageMs / 1000} s`;
  log(`outage: registering ${SUBS} subscriptions`);
  const registered = await registerSubscriptions(
    env.api,
    tenant,
    Array.from({ length: SUBS }, (_, i) => ({
      url: env.receiver.url(`/out/${i}`),
      eventTypes: [`out.s${i}`],
    })),
    8,
  );
  const receiver = env.receiver;
  receiver.reset({ delayMs: 0, trackIds: false, perPath: true, ledger: true });

  /** Accepted ids per subscription index, in acceptance order. */
  const expected: string[][] = Array.from({ length: SUBS }, () => []);
  const subOf = (k: number) => k % SUBS;
  const run = Date.now().toString(36);
  let stopped = false;
  let outageFrom = Infinity;
  let outageTo = Infinity;
  let acceptedDuringOutage = 0;
  let refusedDuringOutage = 0;
  let refused = 0;
  let accepted = 0;

  log(`outage: ${label}: ${beforeMs / 1000} s normal, outage, ${afterMs / 1000} s more, then the drain`);
  const { value, resources } = await env.measure(async () => {
    const producing = steady(env.api, tenant, {
      lanes: LANES,
      eventsPerSec: EVENTS_PER_SEC,
      shape: {
        perRequest: PER_REQUEST,
        typeOf: (k) => `out.s${subOf(k)}`,
        idOf: (lane, k) => `out-${run}-${lane}-${k}`,
      },
      stop: () => stopped,
      onAccepted: (ids, at) => {
        accepted += ids.length;
        if (at >= outageFrom && at < outageTo) acceptedDuringOutage += ids.length;
        for (const id of ids) {
          const k = Number(id.slice(id.lastIndexOf('-') + 1));
          expected[subOf(k)]!.push(id);
        }
      },
      onRefused: (at) => {
        refused++;
        if (at >= outageFrom && at < outageTo) refusedDuringOutage++;
      },
    });
    await sleep(beforeMs);
    receiver.failing = true;
    outageFrom = nowMs();
    log('outage: the receiver answers 503 from now on');
    await sleep(outageMs);
    receiver.failing = false;
    outageTo = nowMs();
    const receivedAtRecovery = receiver.stats.events;
    log(`outage: the receiver is back (${accepted - receivedAtRecovery} events waiting)`);
    // The first receipt after recovery, watched closely.
    let firstReceiptAt: number | null = null;
    const watch = (async () => {
      while (firstReceiptAt === null && nowMs() - outageTo < DRAIN_LIMIT_MS) {
        if (receiver.stats.events > receivedAtRecovery) firstReceiptAt = receiver.stats.lastAt;
        else await sleep(5);
      }
    })();
    await sleep(afterMs);
    stopped = true;
    const stats = await producing;
    // The drain: until every accepted event arrived (or the limit).
    while (receiver.stats.events < accepted && nowMs() - outageTo < DRAIN_LIMIT_MS) await sleep(10);
    await watch;
    return { stats, firstReceiptAt, backlogAtRecovery: accepted - receivedAtRecovery };
  });

  // The ledger: per subscription, every accepted id received, none twice, none unknown.
  let missing = 0;
  let unknown = 0;
  for (let i = 0; i < SUBS; i++) {
    const got = receiver.stats.paths.get(`/out/${i}`)?.ids ?? new Set<string>();
    const want = new Set(expected[i]);
    for (const id of want) if (!got.has(id)) missing++;
    for (const id of got) if (!want.has(id)) unknown++;
  }
  const s = receiver.stats;
  const drainedAt = s.events >= accepted ? s.lastAt : null;
  const drainSec = drainedAt !== null ? round1((drainedAt - outageTo) / 1000) : null;
  const firstSec = value.firstReceiptAt !== null ? round1((value.firstReceiptAt - outageTo) / 1000) : null;
  const ledgerOk = missing === 0 && unknown === 0 && s.duplicates === 0 && s.outOfOrder === 0;
  return [
    {
      scenario: 'outage',
      case: label,
      params: {
        subscriptions: SUBS,
        eventsPerSec: EVENTS_PER_SEC,
        perRequest: PER_REQUEST,
        lanes: LANES,
        outageSec: outageMs / 1000,
      },
      events: accepted,
      eventsPerSec: undefined,
      publishedPerSec: Math.round(accepted / ((beforeMs + outageMs + afterMs) / 1000)),
      posts: s.posts,
      meanBatchFill: s.posts > 0 ? round1(s.events / s.posts) : undefined,
      latency: summarizeLatency(s.latency),
      wallSec: drainSec ?? undefined,
      refusals: refused,
      ...resources,
      note:
        `outage: ${acceptedDuringOutage} events accepted during the ${outageMs / 1000} s outage ` +
        `(${refusedDuringOutage} requests refused 503 then, ${refused} in all); ` +
        `${value.backlogAtRecovery} waiting at recovery; first receipt ${firstSec ?? 'never'} s after recovery, ` +
        `all delivered ${drainSec ?? 'NOT'} s after; ledger ${ledgerOk ? 'OK' : 'FAILED'}: ` +
        `${accepted} accepted, ${s.events} received, ${missing} missing, ${unknown} unexpected, ` +
        `${s.duplicates} duplicates, ${s.outOfOrder} out of order; ${s.refused} POSTs answered 503`,
      extra: {
        acceptedDuringOutage,
        refusedDuringOutage,
        backlogAtRecovery: value.backlogAtRecovery,
        firstReceiptAfterRecoverySec: firstSec,
        drainSec,
        ledger: {
          accepted,
          received: s.events,
          missing,
          unknown,
          duplicates: s.duplicates,
          outOfOrder: s.outOfOrder,
        },
        receiverRefusedPosts: s.refused,
        publishErrors: value.stats.errors,
        ack: summarizeLatency(value.stats.ack),
        registrationSec: round1(registered.seconds),
      },
    } satisfies CaseResult,
  ];
};
