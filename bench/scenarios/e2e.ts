/**
 * End to end through the service: producers publish over HTTP to the API process(es), the worker
 * process(es) deliver, the receiver (answering at once) counts. N subscriptions (10; 1 and 100 too in
 * the full run), each registered through the API for its own event type (`bench.<N>.s<i>`); producers
 * spread events over the types round-robin, so each event is delivered once and delivered events/s is
 * comparable with accepted events/s. Per case (1 and 100 events per request), two phases:
 * - saturated: closed-loop producers keep a backlog queued: accepted and delivered events/s, mean
 *   batch fill, CPU and memory of every process, Temporal calls and history events per event;
 * - 50% of peak: an open-loop producer at half the delivered rate just measured: publish→receipt
 *   latency p50/p95/p99 (hdr-histogram), which the saturated phase cannot give.
 * Order is checked per subscription and producer lane (each lane waits for its answer).
 */
import { emptyPublishStats, paced, registerSubscriptions, saturate, type PublishStats } from '../load';
import { nowMs } from '../receiver';
import { subscriberWorkflowId } from '../../src/workflows/ids';
import { deliveryCycle, historyEvents } from '../temporal-cost';
import {
  log,
  round1,
  selected,
  sleep,
  summarizeLatency,
  temporalCost,
  type CaseResult,
  type Scenario,
  type ScenarioContext,
  type TenantName,
} from '../support';

/** Nothing arriving for this long fails the case. */
const STALL_MS = 60_000;

/** A rate, with one decimal under 10/s. */
const perSec = (count: number, seconds: number) => {
  const rate = count / seconds;
  return rate < 10 ? round1(rate) : Math.round(rate);
};

export function e2eLabel(subs: number, perRequest: number): string {
  return `${subs} sub${subs === 1 ? '' : 's'}, ${perRequest}/req`;
}

/** The e2e cases on `tenantName`, for `subsList` (default: 10 quick, 1/10/100 full). */
export function e2eScenario(tenantName: TenantName, subsList?: number[]): Scenario {
  return async (ctx) => {
    const results: CaseResult[] = [];
    for (const subs of subsList ?? (ctx.quick ? [10] : [1, 10, 100])) {
      const perRequests = [1, 100].filter((per) => selected(ctx, e2eLabel(subs, per)));
      if (perRequests.length === 0) continue;
      const { env } = ctx;
      const tenant = env.tenant(tenantName);
      log(`e2e: registering ${subs} subscription(s) through the API`);
      const registered = await registerSubscriptions(
        env.api,
        tenant,
        Array.from({ length: subs }, (_, i) => ({
          url: env.receiver.url(`/e2e/${subs}/${i}`),
          eventTypes: [`bench.${subs}.s${i}`],
        })),
        8,
      );
      // One event to each subscription first: the workflows, the routing and the sockets are warm.
      env.receiver.reset({ delayMs: 0, trackIds: false });
      for (let from = 0; from < subs; from += 100) {
        const n = Math.min(100, subs - from);
        const res = await env.api.call(tenant, 'POST', '/v1/events', {
          events: Array.from({ length: n }, (_, j) => ({ type: `bench.${subs}.s${from + j}`, data: {} })),
        });
        if (res.status !== 202) throw new Error(`warm-up publish answered ${res.status}`);
      }
      await env.receiver.waitForEvents(subs, STALL_MS);
      for (const perRequest of perRequests) {
        const rows = await runCase(ctx, tenant, subs, perRequest, registered.ids);
        rows[0]!.extra = { ...rows[0]!.extra, registrationSec: round1(registered.seconds) };
        results.push(...rows);
      }
    }
    return results;
  };
}

async function runCase(
  ctx: ScenarioContext,
  tenant: string,
  subs: number,
  perRequest: number,
  subscriptionIds: string[],
): Promise<CaseResult[]> {
  const { env, quick } = ctx;
  const label = e2eLabel(subs, perRequest);
  // s of each phase; the saturated phase's first `warmMs` (the backlog filling) is left out.
  const durationMs = quick ? 2_000 : 8_000;
  const warmMs = quick ? 500 : 1_000;
  const shape = { perRequest, typeOf: (k: number) => `bench.${subs}.s${k % subs}` };
  const params = { subscriptions: subs, perRequest, endpointLatencyMs: 0 };

  // --- saturated ---------------------------------------------------------------------------------
  // Events accepted but not yet received, at most: 4 full batches per subscription (so a batch is
  // always waiting), never more than 20,000 in all (the drain after the phase stays short).
  const window = Math.min(20_000, subs * 400);
  const lanes = perRequest === 1 ? 64 : 8;
  log(`e2e: ${label}, saturated for ${durationMs / 1000} s (${lanes} lanes, backlog ≤ ${window} events)`);
  const receiver = env.receiver;
  receiver.reset({ delayMs: 0, trackIds: false, perPath: true });
  const stats: PublishStats = emptyPublishStats();
  const historyAt = await historyEvents(env.client, tenant);
  const startedAt = nowMs();
  const measured = await env.measure(async () => {
    const run = saturate(
      env.api,
      tenant,
      {
        lanes,
        deadline: startedAt + warmMs + durationMs,
        shape,
        mayPublish: () => stats.accepted - receiver.stats.events < window,
      },
      stats,
    );
    await sleep(warmMs);
    const from = { at: nowMs(), events: receiver.stats.events, posts: receiver.stats.posts, ...stats };
    await run;
    const to = { at: nowMs(), events: receiver.stats.events, posts: receiver.stats.posts };
    return { from, to };
  });
  const { from, to } = measured.value;
  const seconds = (to.at - from.at) / 1000;
  const delivered = to.events - from.events;
  const deliveredPerSec = Math.round(delivered / seconds);
  const drainStarted = nowMs();
  await receiver.waitForEvents(stats.accepted, STALL_MS);
  const drainSec = round1((nowMs() - drainStarted) / 1000);
  // History events of the whole phase (warm-up and drain included) per event accepted in it.
  const historyTo = await historyEvents(env.client, tenant);
  const outOfOrder = receiver.stats.outOfOrder;
  const saturated: CaseResult = {
    scenario: 'e2e',
    case: `${label}, saturated`,
    params: { ...params, phase: 'saturated', lanes, window, durationMs },
    events: delivered,
    eventsPerSec: deliveredPerSec,
    publishedPerSec: Math.round((stats.accepted - from.accepted) / seconds),
    opsPerSec: perSec(stats.requests - from.requests, seconds),
    posts: to.posts - from.posts,
    meanBatchFill: to.posts > from.posts ? round1(delivered / (to.posts - from.posts)) : undefined,
    wallSec: round1(seconds),
    refusals: stats.refused,
    outOfOrder,
    resources: measured.resources,
    temporal: {
      callsPerEvent: temporalCost(measured.resources, delivered, null).callsPerEvent,
      historyEventsPerEvent: temporalCost(
        measured.resources,
        stats.accepted,
        historyTo.events - historyAt.events,
      ).historyEventsPerEvent,
    },
    note:
      `e2e ${label} saturated: 202 p50 ${summarizeLatency(stats.ack).p50Ms} / p99 ${summarizeLatency(stats.ack).p99Ms} ms` +
      (measured.resources.pgActivity
        ? `; PostgreSQL sessions on average: ${Object.entries(measured.resources.pgActivity)
            .slice(0, 5)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}`
        : '') +
      (receiver.stats.outOfOrder > 0 || stats.errors > 0
        ? `; ${receiver.stats.outOfOrder} events out of order, ${stats.errors} failed requests`
        : ''),
    extra: {
      drainSec,
      publishErrors: stats.errors,
      outOfOrder: receiver.stats.outOfOrder,
      acceptedTotal: stats.accepted,
      receivedTotal: receiver.stats.events,
      queuedLatency: summarizeLatency(receiver.stats.latency),
      historyEvents: historyTo.events - historyAt.events,
      workflowRuns: historyTo.runs,
      calls: measured.resources.calls,
      ack: summarizeLatency(stats.ack),
      batchSizes: Object.fromEntries(receiver.stats.batchSizes),
    },
  };

  // --- at 50% of the peak just measured ------------------------------------------------------------
  const rate = Math.max(1, Math.round(deliveredPerSec / 2));
  const requestsPerSec = rate / perRequest;
  log(
    `e2e: ${label}, paced at ${rate} events/s (${round1(requestsPerSec)} requests/s) for ${durationMs / 1000} s`,
  );
  receiver.reset({ delayMs: 0, trackIds: false });
  const pacedAt = nowMs();
  const pacedRun = await env.measure(() =>
    paced(env.api, tenant, { requestsPerSec, durationMs, shape, maxInFlight: 256 }),
  );
  const p = pacedRun.value;
  await receiver.waitForEvents(p.accepted, STALL_MS);
  // The delivery cycle of (at most 10 of) the subscriptions over the paced phase, from their histories.
  const cycle = await deliveryCycle(
    env.client,
    subscriptionIds.slice(0, 10).map(subscriberWorkflowId),
    pacedAt,
    nowMs(),
  );
  const span = ((receiver.stats.lastAt ?? nowMs()) - pacedAt) / 1000;
  const half: CaseResult = {
    scenario: 'e2e',
    case: `${label}, 50% of peak`,
    params: { ...params, phase: 'paced', eventsPerSec: rate, durationMs },
    events: receiver.stats.events,
    eventsPerSec: Math.round(receiver.stats.events / span),
    publishedPerSec: Math.round(p.accepted / (durationMs / 1000)),
    opsPerSec: perSec(p.requests, durationMs / 1000),
    posts: receiver.stats.posts,
    meanBatchFill:
      receiver.stats.posts > 0 ? round1(receiver.stats.events / receiver.stats.posts) : undefined,
    latency: summarizeLatency(receiver.stats.latency),
    wallSec: round1(span),
    refusals: p.refused,
    resources: pacedRun.resources,
    temporal: temporalCost(pacedRun.resources, receiver.stats.events, null),
    note:
      `e2e ${label} at 50% of peak: 202 p50 ${summarizeLatency(p.ack).p50Ms} / p99 ${summarizeLatency(p.ack).p99Ms} ms; ` +
      `delivery cycle (ms p50/p90/max): ${Object.entries(cycle)
        .map(([k, v]) => `${k} ${v ? `${v.p50}/${v.p90}/${v.p100}` : '-'}`)
        .join(', ')}` +
      (p.late > 0 || p.errors > 0 ? `; ${p.late} requests sent > 50 ms late, ${p.errors} failed` : ''),
    extra: { targetEventsPerSec: rate, ack: summarizeLatency(p.ack), late: p.late, errors: p.errors, cycle },
  };
  return [saturated, half];
}
