/**
 * Ceiling (a): a bare undici POST loop to the same receiver, answering at once, with a keep-alive pool
 * like the delivery client's (8 sockets per origin: every bench subscription is on the receiver's one
 * origin), raw-format bodies of 100 events and of 1 event, with 1, 10 and 100 POSTs outstanding: what
 * 1, 10 and 100 subscriptions (one batch in flight each) could at most get through. No signing, no SSRF
 * check, no Temporal: what one Node process can push through this receiver.
 */
import { Agent, request } from 'undici';
import { formatBatch } from '../../src/delivery/formats';
import { newLatencyHistogram, nowMs } from '../receiver';
import { log, makeEvents, summarizeLatency, type CaseResult, type Scenario } from '../support';

export const undiciCeiling: Scenario = async ({ env, quick }) => {
  const durationMs = quick ? 1_000 : 3_000;
  const agent = new Agent({ connections: 8, keepAliveTimeout: 30_000 });
  const url = env.receiver.url('/ceiling');
  const results: CaseResult[] = [];
  try {
    for (const endpointLatencyMs of [0]) {
      for (const batch of [100, 1]) {
        // The same bytes a delivery of `batch` events carries, minus the send times.
        const events = makeEvents('ceiling', 0, batch).map((e, n) => ({ ...e, data: { n } }));
        const { body, contentType } = formatBatch({
          format: 'raw',
          msgId: 'msg_ceiling',
          subscriptionId: 'sub_ceiling',
          maxBatchSize: 100,
          events,
          version: 'bench',
        });
        for (const concurrency of quick ? [10] : [1, 10, 100]) {
          const label = `c=${concurrency}, batch ${batch}, endpoint ${endpointLatencyMs} ms`;
          log(`undici-ceiling: ${label}`);
          const post = async () => {
            const res = await request(url, {
              method: 'POST',
              headers: { 'content-type': contentType },
              body,
              dispatcher: agent,
            });
            await res.body.dump();
            if (res.statusCode !== 204) throw new Error(`receiver answered ${res.statusCode}`);
          };
          env.receiver.reset({ delayMs: endpointLatencyMs, trackIds: false });
          await Promise.all(Array.from({ length: concurrency }, post)); // open the sockets
          env.receiver.reset({ delayMs: endpointLatencyMs, trackIds: false });

          const roundTrip = newLatencyHistogram();
          const { value: elapsedMs, resources } = await env.measure(async () => {
            const startedAt = nowMs();
            const deadline = startedAt + durationMs;
            const lane = async () => {
              while (nowMs() < deadline) {
                const sent = nowMs();
                await post();
                roundTrip.recordValue(Math.max(1, Math.round((nowMs() - sent) * 1000)));
              }
            };
            await Promise.all(Array.from({ length: concurrency }, lane));
            return nowMs() - startedAt;
          });
          const s = env.receiver.stats;
          results.push({
            scenario: 'undici-ceiling',
            case: label,
            params: { concurrency, batch, endpointLatencyMs, durationMs },
            events: s.events,
            posts: s.posts,
            opsPerSec: Math.round((s.posts / elapsedMs) * 1000),
            eventsPerSec: Math.round((s.events / elapsedMs) * 1000),
            meanBatchFill: s.posts > 0 ? Math.round((s.events / s.posts) * 10) / 10 : undefined,
            wallSec: Math.round(elapsedMs / 100) / 10,
            resources,
            extra: { postRoundTrip: summarizeLatency(roundTrip), bodyBytes: Buffer.byteLength(body) },
          });
        }
      }
    }
  } finally {
    await agent.close();
  }
  return results;
};
