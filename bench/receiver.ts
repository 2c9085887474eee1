/**
 * The benchmark's webhook endpoint: a bare node:http server on loopback that answers 204 after a fixed
 * delay (0 by default: it answers fast) and counts what it got from the raw body: POSTs, events per
 * POST, publish→receipt latency per event (the producer puts its send time in `data.sentAt`), and,
 * when asked, per subscription (URL path): order per producer lane and every event id (the ledger).
 * It can play an outage (503 to every POST, nothing counted). It does as little as it can, so that it
 * is never the bottleneck it is measuring.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { build, type Histogram } from 'hdr-histogram-js';

/** Wall-clock ms since the epoch with sub-ms resolution; producer and receiver share this process. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Latencies are recorded in µs, up to one hour. */
export function newLatencyHistogram(): Histogram {
  return build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
  });
}

/** What one subscription's endpoint (one URL path) got. */
export interface PathStats {
  events: number;
  /** Last `data.seq` seen per `data.lane` (>= 0): a producer lane publishes its seqs in increasing order. */
  lastSeq: Map<number, number>;
  /** Event ids received (ledger mode only). */
  ids: Set<string> | null;
}

export interface ReceiverStats {
  posts: number;
  events: number;
  bytes: number;
  /** ms since the epoch at which the first / last POST's body had arrived. */
  firstAt: number | null;
  lastAt: number | null;
  /** Events in the first POST (its events arrived at `firstAt`, before the measured span). */
  firstPostEvents: number;
  /** POSTs by number of events in them. */
  batchSizes: Map<number, number>;
  /** Publish→receipt per event carrying `data.sentAt`, µs. */
  latency: Histogram;
  /** Event ids seen (only when tracking ids), to count duplicates. */
  ids: Set<string>;
  /** Ids seen twice: across paths with `trackIds`, at one path with `ledger`. */
  duplicates: number;
  /** Bodies that were not JSON of the raw format. */
  unparsable: number;
  /** POSTs answered 503 while failing (not counted above). */
  refused: number;
  /** Per URL path (only when tracking paths). */
  paths: Map<string, PathStats>;
  /** Events whose `data.seq` was not above the last one of their lane at their path. */
  outOfOrder: number;
}

export interface ReceiverMode {
  /** ms to wait before answering each request. */
  delayMs: number;
  /** Remember event ids across paths, to count duplicates (off for the ceiling loops). */
  trackIds: boolean;
  /** Count per path and check order per lane. */
  perPath?: boolean;
  /** Also keep every event id per path (the outage's ledger check). */
  ledger?: boolean;
}

interface RawEvent {
  id?: unknown;
  data?: { sentAt?: unknown; lane?: unknown; seq?: unknown } | null;
}

export class Receiver {
  private mode: ReceiverMode = { delayMs: 0, trackIds: true };
  /** While true every POST answers 503 (no Retry-After) and is only counted in `refused`. */
  failing = false;
  stats: ReceiverStats = Receiver.emptyStats();
  private server: Server | null = null;
  private port = 0;

  private static emptyStats(): ReceiverStats {
    return {
      posts: 0,
      events: 0,
      bytes: 0,
      firstAt: null,
      lastAt: null,
      firstPostEvents: 0,
      batchSizes: new Map(),
      latency: newLatencyHistogram(),
      ids: new Set(),
      duplicates: 0,
      unparsable: 0,
      refused: 0,
      paths: new Map(),
      outOfOrder: 0,
    };
  }

  static async start(): Promise<Receiver> {
    const receiver = new Receiver();
    await receiver.listen();
    return receiver;
  }

  /** Base URL; paths are free (`/e2e/<tenant>/<n>`, `/ceiling`). */
  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Starts a fresh count (a new case). */
  reset(mode: ReceiverMode): void {
    this.stats = Receiver.emptyStats();
    this.mode = mode;
    this.failing = false;
  }

  private record(path: string, body: Buffer, at: number): void {
    const s = this.stats;
    s.posts++;
    s.bytes += body.length;
    let events: RawEvent[] = [];
    try {
      events = (JSON.parse(body.toString('utf8')) as { events?: RawEvent[] }).events ?? [];
    } catch {
      s.unparsable++;
    }
    const n = events.length;
    if (s.firstAt === null) {
      s.firstAt = at;
      s.firstPostEvents = n;
    }
    s.lastAt = at;
    s.events += n;
    s.batchSizes.set(n, (s.batchSizes.get(n) ?? 0) + 1);
    let pathStats: PathStats | undefined;
    if (this.mode.perPath) {
      pathStats = s.paths.get(path);
      if (!pathStats) {
        pathStats = { events: 0, lastSeq: new Map(), ids: this.mode.ledger ? new Set() : null };
        s.paths.set(path, pathStats);
      }
      pathStats.events += n;
    }
    for (const event of events) {
      const data = event.data;
      if (typeof data?.sentAt === 'number') {
        s.latency.recordValue(Math.max(1, Math.round((at - data.sentAt) * 1000)));
      }
      if (this.mode.trackIds && typeof event.id === 'string') {
        if (s.ids.has(event.id)) s.duplicates++;
        else s.ids.add(event.id);
      }
      if (pathStats) {
        // Lane -1: no order is asserted (paced requests in flight together).
        if (typeof data?.lane === 'number' && data.lane >= 0 && typeof data.seq === 'number') {
          const last = pathStats.lastSeq.get(data.lane);
          if (last !== undefined && data.seq <= last) s.outOfOrder++;
          else pathStats.lastSeq.set(data.lane, data.seq);
        }
        if (pathStats.ids && typeof event.id === 'string') {
          if (pathStats.ids.has(event.id)) s.duplicates++;
          else pathStats.ids.add(event.id);
        }
      }
    }
  }

  private async listen(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        if (this.failing) {
          this.stats.refused++;
          res.writeHead(503);
          res.end();
          return;
        }
        this.record(req.url ?? '/', Buffer.concat(chunks), nowMs());
        const answer = () => {
          res.writeHead(204);
          res.end();
        };
        if (this.mode.delayMs > 0) setTimeout(answer, this.mode.delayMs);
        else answer();
      });
    });
    // Longer than the clients' keep-alive (undici: 30 s), so an idle pooled socket is never closed by
    // us just as a client reuses it (a POST is not retried by undici: it would fail an attempt).
    this.server.keepAliveTimeout = 65_000;
    this.server.headersTimeout = 66_000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /**
   * Resolves once `events` events have arrived, or as soon as `cancelled()` holds. Rejects when
   * nothing arrives for `stallMs` (a stuck pipeline should fail the case, not hang the run).
   */
  async waitForEvents(
    events: number,
    stallMs: number,
    cancelled: () => boolean = () => false,
  ): Promise<void> {
    let seen = this.stats.events;
    let progressAt = Date.now();
    while (this.stats.events < events && !cancelled()) {
      await new Promise((r) => setTimeout(r, 10));
      if (this.stats.events !== seen) {
        seen = this.stats.events;
        progressAt = Date.now();
      } else if (Date.now() - progressAt > stallMs) {
        throw new Error(
          `receiver: ${this.stats.events} of ${events} events arrived, none in the last ${stallMs / 1000} s`,
        );
      }
    }
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = null;
  }
}
