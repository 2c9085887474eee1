/**
 * Load through the REST API: registering subscriptions, and producers publishing events with
 * `POST /v1/events`, one per request or 100 per request. Each event carries in `data` its send time
 * (`sentAt`, ms since the epoch: the receiver computes publish→receipt from it), its producer lane and
 * that lane's sequence number (the receiver checks order per lane and subscription).
 */
import type { Histogram } from 'hdr-histogram-js';
import type { Api } from './service';
import { newLatencyHistogram, nowMs } from './receiver';
import { describeError, log, pool, sleep } from './support';

export interface Registered {
  ids: string[];
  /** Wall time of all the registrations, s. */
  seconds: number;
  /** POST /v1/subscriptions round trip, µs. */
  latency: Histogram;
}

/**
 * Registers one subscription per spec with `concurrency` requests in flight (a tenant's registrations
 * are rows of the store, each starting its subscriber workflow off the request's path), in spec order.
 */
export async function registerSubscriptions(
  api: Api,
  tenant: string,
  specs: { url: string; eventTypes: string[] }[],
  concurrency: number,
): Promise<Registered> {
  const ids: string[] = new Array<string>(specs.length);
  const latency = newLatencyHistogram();
  const started = nowMs();
  let done = 0;
  let lastLog = Date.now();
  await pool(
    specs.map((spec, i) => ({ spec, i })),
    concurrency,
    async ({ spec, i }) => {
      for (let attempt = 1; ; attempt++) {
        const sent = nowMs();
        try {
          const res = await api.call(tenant, 'POST', '/v1/subscriptions', spec);
          if (res.status !== 201) {
            throw new Error(`POST /v1/subscriptions answered ${res.status}: ${JSON.stringify(res.body)}`);
          }
          latency.recordValue(Math.max(1, Math.round((nowMs() - sent) * 1000)));
          ids[i] = (res.body as { id: string }).id;
          break;
        } catch (err) {
          // A 5xx or a dropped connection under load: try again a few times (a 409 is not retried,
          // so a registration that went through before is not counted twice).
          const message = describeError(err);
          if (attempt >= 5 || / answered 4\d\d/.test(message)) throw err;
          log(`registration ${i} failed (${message}); retrying`);
          await sleep(500 * attempt);
        }
      }
      done++;
      if (Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        log(`  ${tenant}: ${done} of ${specs.length} registered`);
      }
    },
  );
  return { ids, seconds: (nowMs() - started) / 1000, latency };
}

/** What producers saw. */
export interface PublishStats {
  requests: number;
  /** Events in requests answered 202. */
  accepted: number;
  /** Requests answered 503 (a backlog full) or 429. */
  refused: number;
  /** Requests that failed otherwise (connection errors, other statuses). */
  errors: number;
  /** Request → 202 round trip, µs. */
  ack: Histogram;
}

export function emptyPublishStats(): PublishStats {
  return { requests: 0, accepted: 0, refused: 0, errors: 0, ack: newLatencyHistogram() };
}

/** Builds the body of one request: `n` events of types chosen by `typeOf(k)`, k counting per lane. */
export interface RequestShape {
  /** Events per request: 1 sends the single-event form, more the `{"events": [...]}` form. */
  perRequest: number;
  /** Event type of the lane's k-th event. */
  typeOf: (k: number) => string;
  /** Producer-chosen id of the lane's k-th event; absent: Hookline generates ids. */
  idOf?: (lane: number, k: number) => string;
  /** Pad each event's data to about this many bytes (`data.pad`); absent: no padding. */
  dataBytes?: number;
}

const pads = new Map<number, string>();
function pad(bytes: number): string {
  let p = pads.get(bytes);
  if (p === undefined) pads.set(bytes, (p = 'x'.repeat(Math.max(0, bytes - 60))));
  return p;
}

function body(shape: RequestShape, lane: number, from: number): { json: string; n: number } {
  const sentAt = nowMs();
  const events = Array.from({ length: shape.perRequest }, (_, j) => {
    const k = from + j;
    return {
      ...(shape.idOf ? { id: shape.idOf(lane, k) } : {}),
      type: shape.typeOf(k),
      data: shape.dataBytes ? { sentAt, lane, seq: k, pad: pad(shape.dataBytes) } : { sentAt, lane, seq: k },
    };
  });
  return {
    json: JSON.stringify(shape.perRequest === 1 ? events[0] : { events }),
    n: shape.perRequest,
  };
}

/** Sends one request and counts its answer. Returns the answer's status (0 for a connection error). */
async function publishOnce(
  api: Api,
  tenant: string,
  json: string,
  n: number,
  stats: PublishStats,
): Promise<{ status: number; retryAfterSec: number | null }> {
  stats.requests++;
  const sent = nowMs();
  try {
    const res = await api.call(tenant, 'POST', '/v1/events', json);
    if (res.status === 202) {
      stats.accepted += n;
      stats.ack.recordValue(Math.max(1, Math.round((nowMs() - sent) * 1000)));
    } else if (res.status === 503 || res.status === 429) stats.refused++;
    else {
      stats.errors++;
      if (stats.errors <= 3) log(`publish answered ${res.status}: ${JSON.stringify(res.body).slice(0, 300)}`);
    }
    return res;
  } catch (err) {
    stats.errors++;
    if (stats.errors <= 3) log(`publish failed: ${describeError(err)}`);
    return { status: 0, retryAfterSec: null };
  }
}

/**
 * Closed-loop producers: `lanes` lanes, each sending its next request as soon as the previous one is
 * answered, while `mayPublish()` holds (the caller keeps the backlog bounded with it), until
 * `deadline` (ms since the epoch). Each lane's events are in order (lane number, seq). A refused request is not sent again (the figures are the
 * receiver's), but the lane pauses for its Retry-After.
 */
export async function saturate(
  api: Api,
  tenant: string,
  opts: { lanes: number; deadline: number; shape: RequestShape; mayPublish: () => boolean },
  /** Counted into while it runs (the caller snapshots it to leave a warm-up out). */
  stats: PublishStats = emptyPublishStats(),
): Promise<PublishStats> {
  const lane = async (laneNo: number) => {
    let k = 0;
    while (nowMs() < opts.deadline) {
      if (!opts.mayPublish()) {
        await sleep(2);
        continue;
      }
      const { json, n } = body(opts.shape, laneNo, k);
      k += n;
      const res = await publishOnce(api, tenant, json, n, stats);
      if (res.status === 503 || res.status === 429) await sleep(Math.min(res.retryAfterSec ?? 1, 5) * 1000);
      else if (res.status === 0) await sleep(100);
    }
  };
  await Promise.all(Array.from({ length: opts.lanes }, (_, i) => lane(i)));
  return stats;
}

/**
 * Open-loop producer: request r is sent at `start + r / requestsPerSec` whether or not earlier ones
 * were answered (so a slow answer does not hide latency by slowing the producer), at most
 * `maxInFlight` at once, until `durationMs` has passed. Requests are lane 0 in send order; with
 * several in flight their order of arrival is not defined, so their lane is -1 (no order check).
 */
export async function paced(
  api: Api,
  tenant: string,
  opts: { requestsPerSec: number; durationMs: number; shape: RequestShape; maxInFlight: number },
): Promise<PublishStats & { late: number }> {
  const stats = emptyPublishStats();
  const start = nowMs();
  const total = Math.max(1, Math.floor((opts.durationMs / 1000) * opts.requestsPerSec));
  const inFlight = new Set<Promise<unknown>>();
  let late = 0;
  for (let r = 0; r < total; r++) {
    const due = start + (r / opts.requestsPerSec) * 1000;
    const wait = due - nowMs();
    if (wait > 1) await sleep(wait);
    else if (wait < -50) late++;
    while (inFlight.size >= opts.maxInFlight) await Promise.race(inFlight);
    // Lane -1: requests in flight together may be queued in either order, so none is asserted.
    const { json, n } = body(opts.shape, -1, r * opts.shape.perRequest);
    const p = publishOnce(api, tenant, json, n, stats).finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  await Promise.all(inFlight);
  return { ...stats, late };
}

/**
 * Sequential producers with producer-chosen ids, for the ledger: each lane sends at a fixed pace and
 * waits for each answer; a refused (503) or failed request is sent again, same ids, after its
 * Retry-After (capped at 5 s), so every event is eventually accepted exactly once by id. Calls
 * `onAccepted` with each request's ids once answered 202.
 */
export async function steady(
  api: Api,
  tenant: string,
  opts: {
    lanes: number;
    /** Events per second over all lanes. */
    eventsPerSec: number;
    shape: RequestShape & { idOf: (lane: number, k: number) => string };
    stop: () => boolean;
    onAccepted: (ids: string[], at: number) => void;
    onRefused: (at: number) => void;
  },
): Promise<PublishStats> {
  const stats = emptyPublishStats();
  const intervalMs = (opts.lanes * opts.shape.perRequest * 1000) / opts.eventsPerSec;
  const lane = async (laneNo: number) => {
    const start = nowMs() + (laneNo * intervalMs) / opts.lanes;
    let k = 0;
    for (let r = 0; !opts.stop(); r++) {
      const wait = start + r * intervalMs - nowMs();
      if (wait > 1) await sleep(wait);
      const { json, n } = body(opts.shape, laneNo, k);
      const ids = Array.from({ length: n }, (_, j) => opts.shape.idOf(laneNo, k + j));
      k += n;
      for (;;) {
        const res = await publishOnce(api, tenant, json, n, stats);
        if (res.status === 202) {
          opts.onAccepted(ids, nowMs());
          break;
        }
        if (res.status === 503 || res.status === 429) opts.onRefused(nowMs());
        await sleep(Math.min(res.retryAfterSec ?? 1, 5) * 1000);
      }
    }
  };
  await Promise.all(Array.from({ length: opts.lanes }, (_, i) => lane(i)));
  return stats;
}
