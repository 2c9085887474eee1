/**
 * The benchmark's webhook endpoint: a bare node:http server on loopback that answers 204 after a fixed
 * delay (to emulate a real endpoint) and counts what it got from the raw body: POSTs, events per POST,
 * and publish→receipt latency per event (the producer puts its send time in `data.sentAt`).
 * It does as little as it can, so that it is never the bottleneck it is measuring.
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
  duplicates: number;
  /** Bodies that were not JSON of the raw format. */
  unparsable: number;
}

interface RawBody {
  events?: { id?: unknown; data?: { sentAt?: unknown } | null }[];
}

export class Receiver {
  /** ms to wait before answering each request. */
  delayMs = 0;
  /** Whether to remember event ids (off for the ceiling loops, which send the same body again). */
  trackIds = true;
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
    };
  }

  static async start(): Promise<Receiver> {
    const receiver = new Receiver();
    await receiver.listen();
    return receiver;
  }

  /** Base URL; paths are free (`/sub/<id>`, `/ceiling`). */
  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Starts a fresh count (a new case). */
  reset(options: { delayMs: number; trackIds: boolean }): void {
    this.stats = Receiver.emptyStats();
    this.delayMs = options.delayMs;
    this.trackIds = options.trackIds;
  }

  private record(body: Buffer, at: number): void {
    const s = this.stats;
    s.posts++;
    s.bytes += body.length;
    let events: NonNullable<RawBody['events']> = [];
    try {
      events = (JSON.parse(body.toString('utf8')) as RawBody).events ?? [];
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
    for (const event of events) {
      const sentAt = event.data?.sentAt;
      if (typeof sentAt === 'number') s.latency.recordValue(Math.max(1, Math.round((at - sentAt) * 1000)));
      if (this.trackIds && typeof event.id === 'string') {
        if (s.ids.has(event.id)) s.duplicates++;
        else s.ids.add(event.id);
      }
    }
  }

  private async listen(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        this.record(Buffer.concat(chunks), nowMs());
        const answer = () => {
          res.writeHead(204);
          res.end();
        };
        if (this.delayMs > 0) setTimeout(answer, this.delayMs);
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
      await new Promise((r) => setTimeout(r, 20));
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
