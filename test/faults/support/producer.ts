import { sleep } from './env';
import type { Ledger } from './ledger';

export interface ProducerOptions {
  /** Base URL of the API; a function, so a restarted service may move (it does not here). */
  baseUrl: () => string;
  apiKey: string;
  /** Event ids are `${prefix}-${n}`, n from 0. */
  prefix: string;
  /** Events per request (1..100). */
  batchSize: number;
  /** Events per second to aim at; unset: as fast as the API answers. */
  ratePerSecond?: number;
  /**
   * Events published as fast as the API answers before the pacing of `ratePerSecond` starts: a
   * backlog at once, then publishes that keep going through the fault.
   */
  burst?: number;
  /** The ledger's stream (see Ledger): give concurrent producers one each. Default: the shared one. */
  stream?: string;
  /** Stop after this many events accepted. */
  maxEvents?: number;
  /** Subscriptions every event is owed to (they match every event). */
  subscriptions: () => string[];
  ledger: Ledger;
  /** ms a request may take before it is abandoned and sent again. */
  requestTimeoutMs?: number;
  /** Event type. */
  type?: string;
}

/** Why a request was sent again, counted. */
export interface RetryCounts {
  /** No connection (the service is down). */
  connection: number;
  /** Abandoned after requestTimeoutMs. */
  timeout: number;
  /** 503/429 with Retry-After (backlog full, rate limited, not ready). */
  backoff: number;
  /** Other 5xx (Temporal unreachable behind the API, for one). */
  serverError: number;
}

/**
 * A producer that keeps going through faults, as a careful client does: it publishes batches through
 * `POST /v1/events` one request at a time and sends the same batch (same ids) again after a
 * connection error, a timeout, a 5xx or a 429, until it gets a 202. "Accepted" means answered 202;
 * each 202 goes into the ledger. Any other 4xx is a bug of the test or the API and stops it.
 */
export class Producer {
  sent = 0;
  /** Events answered `duplicate: true` (a retried request that had been stored before its answer was lost). */
  duplicates = 0;
  readonly retries: RetryCounts = { connection: 0, timeout: 0, backoff: 0, serverError: 0 };
  /** ms of the slowest accepted request (retries of the same batch not included). */
  slowestMs = 0;
  /** 202 answers received; and those received while `faultActive()` said a fault was on. */
  accepted202 = 0;
  acceptedDuringFault = 0;
  faultActive: () => boolean = () => false;
  private stopping = false;
  private aborted = false;
  private running: Promise<void> | null = null;
  error: Error | null = null;

  constructor(private readonly opts: ProducerOptions) {}

  /** Producers started and not yet stopped (see `abortAll`). */
  private static readonly live = new Set<Producer>();

  /** Aborts every producer still running: call it in `afterAll`, so a failed test leaves none behind. */
  static abortAll(): void {
    for (const p of Producer.live) p.abort();
    Producer.live.clear();
  }

  start(): this {
    Producer.live.add(this);
    this.running = this.loop().catch((err: unknown) => {
      this.error = err instanceof Error ? err : new Error(String(err));
    });
    return this;
  }

  /** Stops after the request in progress has been accepted. */
  async stop(): Promise<void> {
    this.stopping = true;
    Producer.live.delete(this);
    await this.running;
    if (this.error) throw this.error;
  }

  /**
   * Gives up at once, the batch in progress included (a failed test's clean-up: `stop()` would wait
   * for a 202 that a dead service never sends).
   */
  abort(): void {
    this.stopping = true;
    this.aborted = true;
  }

  /** Resolves once `count` events are accepted (or the producer stopped). */
  async waitForAccepted(count: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.sent < count) {
      if (this.error) throw this.error;
      if (this.stopping) return;
      if (Date.now() > deadline)
        throw new Error(`producer: ${this.sent}/${count} accepted in ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  private async loop(): Promise<void> {
    const started = Date.now();
    const { maxEvents = Infinity, batchSize, ratePerSecond, burst = 0 } = this.opts;
    let pacedFrom: number | null = null;
    while (!this.stopping && this.sent < maxEvents) {
      const n = Math.min(batchSize, maxEvents - this.sent);
      if (ratePerSecond && this.sent >= burst) {
        pacedFrom ??= burst === 0 ? started : Date.now();
        const due = pacedFrom + ((this.sent - burst) / ratePerSecond) * 1000;
        if (due > Date.now()) await sleep(due - Date.now());
        if (this.stopping) return;
      }
      const ids = Array.from({ length: n }, (_, i) => `${this.opts.prefix}-${this.sent + i}`);
      await this.publish(ids);
      this.sent += n;
    }
  }

  /** Sends one batch until it is accepted. */
  private async publish(ids: string[]): Promise<void> {
    const body = JSON.stringify({
      events: ids.map((id) => ({ id, type: this.opts.type ?? 'fault.test', data: { id } })),
    });
    const first = Date.now();
    for (;;) {
      if (this.aborted) return;
      let res: Response;
      try {
        res = await fetch(`${this.opts.baseUrl()}/v1/events`, {
          method: 'POST',
          headers: { authorization: `Bearer ${this.opts.apiKey}`, 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(this.opts.requestTimeoutMs ?? 30_000),
        });
      } catch (err) {
        const name = (err as { name?: string }).name;
        if (name === 'TimeoutError') this.retries.timeout++;
        else this.retries.connection++;
        await sleep(250);
        continue;
      }
      const text = await res.text().catch(() => '');
      if (res.status === 202) {
        const answer = JSON.parse(text) as { events: { id: string; duplicate: boolean }[] };
        const got = answer.events.map((e) => e.id);
        if (got.join('\n') !== ids.join('\n'))
          throw new Error(`202 answered other ids: ${text.slice(0, 300)}`);
        this.duplicates += answer.events.filter((e) => e.duplicate).length;
        this.opts.ledger.accept(ids, this.opts.subscriptions(), this.opts.stream);
        this.accepted202++;
        if (this.faultActive()) this.acceptedDuringFault++;
        this.slowestMs = Math.max(this.slowestMs, Date.now() - first);
        return;
      }
      if (res.status === 503 || res.status === 429) {
        this.retries.backoff++;
        const after = Number(res.headers.get('retry-after') ?? '1');
        await sleep(Math.min(Number.isFinite(after) ? after : 1, 5) * 1000);
        continue;
      }
      if (res.status >= 500) {
        this.retries.serverError++;
        await sleep(500);
        continue;
      }
      throw new Error(`publish answered ${res.status}: ${text.slice(0, 300)}`);
    }
  }
}
