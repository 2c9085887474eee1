/**
 * Many subscriptions at once (10; 100 in the full run), each fed its share of the events by its own
 * producer, endpoint answering after 20 ms: the aggregate delivered events/s of one worker.
 */
import type { BacklogLimits } from '../../src/workflows/messages';
import { nowMs } from '../receiver';
import {
  deleteSubscribers,
  deliveryFigures,
  log,
  makeSubscription,
  pool,
  produce,
  startSubscriber,
  untilDelivered,
  type BenchEnv,
  type CaseResult,
  type Scenario,
  type SubscriberHandle,
} from '../support';

const CHUNK = 100;
const ENDPOINT_LATENCY_MS = 20;

export const subscriberFanout: Scenario = async ({ env, quick, limits }) => {
  const total = quick ? 5_000 : 20_000;
  const results: CaseResult[] = [];
  for (const subscriptions of quick ? [10] : [10, 100]) {
    results.push(await runCase(env, limits, subscriptions, total));
  }
  return results;
};

async function runCase(
  env: BenchEnv,
  limits: BacklogLimits,
  subscriptions: number,
  total: number,
): Promise<CaseResult> {
  const perSub = Math.ceil(total / subscriptions);
  const expected = perSub * subscriptions;
  // Updates in flight per subscription; 100 subscriptions already keep 100 updates outstanding.
  const inFlight = subscriptions >= 100 ? 1 : 2;
  const label = `${subscriptions} subs, endpoint ${ENDPOINT_LATENCY_MS} ms`;
  log(`subscriber-fanout: ${label}, ${expected} events`);
  const tag = `bench_fan${subscriptions}_${Date.now().toString(36)}`;
  env.receiver.reset({ delayMs: ENDPOINT_LATENCY_MS, trackIds: true });

  const handles: SubscriberHandle[] = [];
  try {
    await pool(
      Array.from({ length: subscriptions }, (_, i) => `${tag}_${i}`),
      20,
      async (id) => {
        handles.push(
          await startSubscriber(env, makeSubscription(id, env.receiver.url(`/sub/${id}`)), limits),
        );
      },
    );
    const startedAt = nowMs();
    const { value: produced, resources } = await env.measure(() =>
      untilDelivered(
        env.receiver,
        expected,
        Promise.all(
          handles.map((handle) =>
            produce(handle, { prefix: handle.workflowId, total: perSub, chunk: CHUNK, inFlight }),
          ),
        ),
        handles,
      ),
    );
    const figures = deliveryFigures(env.receiver, startedAt);
    const doneAt = Math.max(...produced.map((p) => p.doneAt));
    return {
      scenario: 'subscriber-fanout',
      case: label,
      params: {
        subscriptions,
        endpointLatencyMs: ENDPOINT_LATENCY_MS,
        events: expected,
        chunk: CHUNK,
        inFlightPerSubscription: inFlight,
        maxBacklogBytes: limits.maxBytes,
      },
      ...figures,
      refusals: produced.reduce((sum, p) => sum + p.refusals, 0),
      ...resources,
      extra: {
        ...figures.extra,
        enqueuedPerSec: Math.round((expected / (doneAt - startedAt)) * 1000),
        updates: produced.reduce((sum, p) => sum + p.updates, 0),
      },
    };
  } finally {
    await deleteSubscribers(handles);
  }
}
