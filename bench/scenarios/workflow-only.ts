/**
 * The workflow layer alone (no API): ONE subscriber workflow started directly and fed by enqueue
 * updates of 100 events with several in flight, faster than it delivers, to the receiver answering at
 * once. Delivered events/s here, beside the end-to-end 1-subscription figure, shows what the API and
 * routing cost; the batch fill shows how full the batches are.
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

export const workflowOnly: Scenario = async ({ env, quick, limits }) => [
  await runCase(env, limits, quick ? 3_000 : 20_000, 0),
];

async function runCase(
  env: BenchEnv,
  limits: BacklogLimits,
  total: number,
  endpointLatencyMs: number,
): Promise<CaseResult> {
  const label = `1 sub, updates of ${CHUNK}, endpoint ${endpointLatencyMs} ms`;
  log(`workflow-only: ${label}, ${total} events`);
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
      scenario: 'workflow-only',
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
