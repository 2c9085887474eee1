import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One POST as the receiver saw it. */
export interface Post {
  /** Path of the request (several subscriptions can share one receiver by path). */
  path: string;
  /** `webhook-id` header: the batch's msg id, stable across its retries. */
  webhookId: string;
  /** `id` of the raw-format body (must equal webhookId). */
  bodyId: string;
  subscriptionId: string;
  /** Event ids of the batch, in body order. */
  eventIds: string[];
  /** ms since the epoch when the body had arrived. */
  at: number;
  /** Status the receiver sent, once the answer was written out completely; null until (or if never). */
  answered: number | null;
  /** ms since the epoch when the exchange ended (answer done, or the sender hung up); null while open. */
  closedAt: number | null;
  /** Body bytes handed to the socket (big, endless and trickle bodies only). */
  bytesOut: number;
}

/** How to answer one POST. */
export type Behaviour =
  /** Answer `status` after `delayMs`. */
  | { kind: 'answer'; status: number; delayMs?: number; headers?: Record<string, string> }
  /** Never answer (the sender's timeout must end it). */
  | { kind: 'hang' }
  /** Headers with `status`, then a body that never ends, written as fast as the socket takes it. */
  | { kind: 'endless'; status: number }
  /** Headers with `status`, then one byte every `everyMs` forever. */
  | { kind: 'trickle'; status: number; everyMs: number }
  /** `status` with a body of `bytes` bytes. */
  | { kind: 'big'; status: number; bytes: number };

/** 64 KiB of filler, written again and again by endless bodies. */
const CHUNK = Buffer.alloc(64 * 1024, 'x');

/**
 * A loopback receiver for the fault suite: it records every POST of a raw-format batch (webhook-id,
 * subscription, event ids, the answer it managed to send) and answers as the current behaviour says.
 * It can stop listening altogether (connections refused) and listen again on the same port.
 */
export class FaultReceiver {
  readonly posts: Post[] = [];
  /** Decides the answer per POST; replace it at any time. */
  behave: (post: Post) => Behaviour = () => ({ kind: 'answer', status: 200 });
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  port = 0;

  private constructor(readonly host: string) {}

  static async start(host = '127.0.0.1', port = 0): Promise<FaultReceiver> {
    const receiver = new FaultReceiver(host);
    await receiver.listen(port);
    return receiver;
  }

  /** Base URL; append a path per subscription. */
  get url(): string {
    return `http://${this.host}:${this.port}`;
  }

  /** True while the listener is closed (every connection is refused). */
  get down(): boolean {
    return this.server === null;
  }

  private async listen(port: number): Promise<void> {
    const server = createServer((req, res) => this.handle(req, res));
    server.keepAliveTimeout = 5_000;
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.host, () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST') {
        res.writeHead(405).end();
        return;
      }
      let body: { id?: string; subscriptionId?: string; events?: { id: string }[] } = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        // recorded with empty fields: the ledger reports it
      }
      const post: Post = {
        path: req.url ?? '',
        webhookId: String(req.headers['webhook-id'] ?? ''),
        bodyId: body.id ?? '',
        subscriptionId: body.subscriptionId ?? '',
        eventIds: (body.events ?? []).map((e) => e.id),
        at: Date.now(),
        answered: null,
        closedAt: null,
        bytesOut: 0,
      };
      res.once('close', () => (post.closedAt = Date.now()));
      this.posts.push(post);
      this.answer(this.behave(post), post, res);
    });
  }

  private answer(b: Behaviour, post: Post, res: ServerResponse): void {
    const finished = (status: number) => res.once('finish', () => (post.answered = status));
    switch (b.kind) {
      case 'answer': {
        const send = () => {
          if (res.destroyed) return;
          finished(b.status);
          res.writeHead(b.status, b.headers ?? {}).end();
        };
        if (b.delayMs) this.later(send, b.delayMs);
        else send();
        return;
      }
      case 'hang':
        return;
      case 'big': {
        // Written in chunks as the socket takes them, so `bytesOut` shows how far the sender read
        // (plus what socket buffers hold); 'finish' is no proof of that, it fires once the last chunk
        // is handed over.
        finished(b.status);
        res.writeHead(b.status, { 'content-type': 'text/plain', 'content-length': String(b.bytes) });
        const pump = () => {
          while (!res.destroyed && post.bytesOut < b.bytes) {
            const chunk = CHUNK.subarray(0, Math.min(CHUNK.length, b.bytes - post.bytesOut));
            post.bytesOut += chunk.length;
            if (!res.write(chunk)) return;
          }
          if (!res.destroyed && !res.writableEnded) res.end();
        };
        res.on('drain', pump);
        pump();
        return;
      }
      case 'endless': {
        res.writeHead(b.status, { 'content-type': 'text/plain' });
        // Write while the socket takes it; stop when the sender hangs up.
        const pump = () => {
          while (!res.destroyed) {
            post.bytesOut += CHUNK.length;
            if (!res.write(CHUNK)) break;
          }
        };
        res.on('drain', pump);
        pump();
        return;
      }
      case 'trickle': {
        res.writeHead(b.status, { 'content-type': 'text/plain' });
        const tick = () => {
          if (res.destroyed) return;
          res.write('.');
          post.bytesOut++;
          this.later(tick, b.everyMs);
        };
        tick();
        return;
      }
    }
  }

  private later(fn: () => void, ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  /** Stops listening and drops every connection: senders get ECONNREFUSED until `reopen()`. */
  async goDown(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Listens again on the same port. */
  async reopen(): Promise<void> {
    if (!this.server) await this.listen(this.port);
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await this.goDown();
  }
}
