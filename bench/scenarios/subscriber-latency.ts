/**
 * Publish→receipt latency without a backlog: one subscription, one event per enqueue update, sent at
 * a steady pace well under the throughput, endpoint answering at once. This is the pipeline's own
 * latency (update round trip + workflow task + activity task + POST), the floor under the latency
 * figures of the saturating scenarios.
 */
import { build } from 'hdr-histogram-js';
import { enqueueUpdate } from '../../src/workflows/messages';
import { nowMs } from '../receiver';
import {
  deleteSubscribers,
  deliveryFigures,
  log,
  makeEvents,
  makeSubscription,
  sleep,
  startSubscriber,
  summarizeLatency,
  untilDelivered,
  type Scenario,
} from '../support';

/** ms between publishes. */
const INTERVAL_MS = 50;

export const subscriberLatency: Scenario = async ({ env, quick, limits }) => {
  const total = quick ? 40 : 200;
  const label = `1 sub, 1 event every ${INTERVAL_MS} ms, endpoint 0 ms`;
  log(`subscriber-latency: ${label}, ${total} events`);
  const id = `bench_lat_${Date.now().toString(36)}`;
  env.receiver.reset({ delayMs: 0, trackIds: true });
  const handle = await startSubscriber(env, makeSubscription(id, env.receiver.url(`/sub/${id}`)), limits);
  const updateLatency = build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000 });
  try {
    // One event through first, so the workflow's start is not in the figures.
    await handle.executeUpdate(enqueueUpdate, { args: [{ events: makeEvents(`${id}-warmup`, 0, 1) }] });
    await env.receiver.waitForEvents(1, 60_000);
    env.receiver.reset({ delayMs: 0, trackIds: true });

    const startedAt = nowMs();
    const publish = async () => {
      for (let i = 0; i < total; i++) {
        const wait = startedAt + i * INTERVAL_MS - nowMs();
        if (wait > 0) await sleep(wait);
        const sent = nowMs();
        await handle.executeUpdate(enqueueUpdate, { args: [{ events: makeEvents(id, i, 1) }] });
        updateLatency.recordValue(Math.max(1, Math.round((nowMs() - sent) * 1000)));
      }
    };
    const { resources } = await env.measure(() => untilDelivered(env.receiver, total, publish(), [handle]));
    const figures = deliveryFigures(env.receiver, startedAt);
    return [
      {
        scenario: 'subscriber-latency',
        case: label,
        params: { subscriptions: 1, endpointLatencyMs: 0, events: total, intervalMs: INTERVAL_MS },
        ...figures,
        ...resources,
        extra: { ...figures.extra, enqueueUpdateRoundTrip: summarizeLatency(updateLatency) },
      },
    ];
  } finally {
    await deleteSubscribers([handle]);
  }
};
