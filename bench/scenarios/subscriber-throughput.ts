/**
 * ONE subscription, a producer faster than the endpoint: enqueue updates of 100 events with several in
 * flight, against an endpoint that answers after 20 ms (a real one) and after 0 ms (the pipeline's own
 * ceiling). Shows delivered events/s, how full the batches are, and publish→receipt latency (which,
 * with a saturating producer, is mostly time spent waiting in the backlog).
 */
import type { BacklogLimits } from '../../src/workflows/messages';
import { nowMs } from '../receiver';
import {
  deleteSubscribers,
  deliveryFigures,
  log,
  makeSubscription,
  produce,
  runCount,
  startSubscriber,
  untilDelivered,
  type BenchEnv,
  type CaseResult,
  type Scenario,
} from '../support';

/** Events per enqueue update (the API's batch publish limit). */
const CHUNK = 100;
/** Enqueue updates outstanding at once (the server allows 10 in flight per workflow). */
const IN_FLIGHT = 4;

export const subscriberThroughput: Scenario = async ({ env, quick, limits }) => {
  const total = quick ? 5_000 : 20_000;
  const results: CaseResult[] = [];
  for (const endpointLatencyMs of [20, 0]) {
    results.push(await runCase(env, limits, total, endpointLatencyMs));
  }
  return results;
};

async function runCase(
  env: BenchEnv,
  limits: BacklogLimits,
  total: number,
  endpointLatencyMs: number,
): Promise<CaseResult> {
  const label = `1 sub, endpoint ${endpointLatencyMs} ms`;
  log(`subscriber-throughput: ${label}, ${total} events`);
  const id = `bench_tp${endpointLatencyMs}_${Date.now().toString(36)}`;
  env.receiver.reset({ delayMs: endpointLatencyMs, trackIds: true });
  const handle = await startSubscriber(env, makeSubscription(id, env.receiver.url(`/sub/${id}`)), limits);
  try {
    const startedAt = nowMs();
    const { value: produced, resources } = await env.measure(() =>
      untilDelivered(
        env.receiver,
        total,
        produce(handle, { prefix: id, total, chunk: CHUNK, inFlight: IN_FLIGHT }),
        [handle],
      ),
    );
    const figures = deliveryFigures(env.receiver, startedAt);
    const description = await handle.describe();
    return {
      scenario: 'subscriber-throughput',
      case: label,
      params: {
        subscriptions: 1,
        endpointLatencyMs,
        events: total,
        chunk: CHUNK,
        inFlight: IN_FLIGHT,
        maxBacklogBytes: limits.maxBytes,
      },
      ...figures,
      refusals: produced.refusals,
      ...resources,
      extra: {
        ...figures.extra,
        enqueuedPerSec: Math.round((total / (produced.doneAt - startedAt)) * 1000),
        updates: produced.updates,
        historyLength: description.historyLength,
        runs: await runCount(env, handle.workflowId),
      },
    };
  } finally {
    await deleteSubscribers([handle]);
  }
}
