import { Client, Connection } from '@temporalio/client';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { startServer, type RunningServer } from '../../src/api/app';
import { loadConfig } from '../../src/config';
import { testLogger } from '../support/temporal';

/**
 * /readyz with Temporal unreachable: a TCP port that accepts connections and never speaks gRPC, as a
 * hung or half-dead frontend does. The answer must be a prompt 503, not a request left hanging.
 */
describe('GET /readyz when Temporal does not answer', () => {
  let blackHole: Server;
  let connection: Connection;
  let server: RunningServer;
  /** The client's connections: close() waits for them, and gRPC keeps one open. */
  const accepted = new Set<Socket>();

  beforeAll(async () => {
    blackHole = createServer((socket) => accepted.add(socket));
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    const address = `127.0.0.1:${(blackHole.address() as AddressInfo).port}`;
    connection = Connection.lazy({ address });
    const client = new Client({ connection });
    const config = loadConfig({ API_KEYS: 'acme:acme-key-0123456789abcdef', LOG_LEVEL: 'silent' });
    server = await startServer({
      config,
      client,
      logger: testLogger,
      apiKeys: config.apiKeys!,
      store: undefined as never,
      subscribers: undefined as never,
      publisher: undefined as never,
      subscriptions: undefined as never,
      workerReady: () => Promise.resolve(true),
      port: 0,
    });
  });
  afterAll(async () => {
    await server?.stop();
    await connection?.close().catch(() => undefined);
    for (const socket of accepted) socket.destroy();
    blackHole?.close();
  });

  it('answers 503 with the failed check', async () => {
    const res = await fetch(`${server.url}/readyz`, { signal: AbortSignal.timeout(10_000) });
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'not_ready', checks: { temporal: false, worker: false } });
  });
});
