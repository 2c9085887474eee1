import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body, as sent. */
  body: string;
  /** ms since the epoch, on arrival. */
  at: number;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** ms to wait before answering. */
  delayMs?: number;
}

/** Decides the answer to the n-th request (0-based). May be async, e.g. to ask a test server's clock. */
export type Script = (req: ReceivedRequest, n: number) => Answer | Promise<Answer>;

/**
 * A real HTTP receiver on loopback whose answers a test scripts (like svix's TestReceiver). It records
 * every request, in arrival order.
 */
export class TestReceiver {
  readonly requests: ReceivedRequest[] = [];
  private script: Script = () => ({ status: 200 });
  private server: Server | null = null;
  private waiters: (() => void)[] = [];
  url = '';

  static async start(script?: Script): Promise<TestReceiver> {
    const receiver = new TestReceiver();
    if (script) receiver.script = script;
    await receiver.listen();
    return receiver;
  }

  private async listen(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const received: ReceivedRequest = {
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          at: Date.now(),
        };
        const n = this.requests.length;
        this.requests.push(received);
        void Promise.resolve(this.script(received, n)).then(async (answer) => {
          if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
          if (res.destroyed) return;
          res.writeHead(answer.status, answer.headers ?? {});
          res.end(answer.body ?? '');
          this.notify();
        });
      });
    });
    // Keep-alive sockets must not hold close() up.
    this.server.keepAliveTimeout = 1_000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  /** Replaces the script for the requests still to come. */
  respond(script: Script): void {
    this.script = script;
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach((w) => w());
  }

  /** Waits until `predicate` holds over the requests answered so far. */
  async waitFor(predicate: (requests: ReceivedRequest[]) => boolean, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.requests)) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `receiver: condition not met within ${timeoutMs} ms (${this.requests.length} requests)`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 500));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Event ids of every request's body (raw format), flattened, in arrival order. */
  eventIds(filter: (r: ReceivedRequest, n: number) => boolean = () => true): string[] {
    return this.requests
      .filter(filter)
      .flatMap((r) => (JSON.parse(r.body) as { events: { id: string }[] }).events.map((e) => e.id));
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
