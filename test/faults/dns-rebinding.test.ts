import { until } from './support/env';
import { startFaultCase, type FaultCase } from './support/harness';
import { FaultReceiver } from './support/receiver';
import { TestResolver } from './support/resolver';

/** A public address (example.com's): what every name resolves to at registration. */
const PUBLIC = '93.184.215.14';
/** The only loopback address targets may use here (ALLOWED_TARGET_NETWORKS). */
const ALLOWED = '127.0.0.2';
const EVENTS = 30;

interface Attempt {
  statusCode: number | null;
  error: string | null;
}

/**
 * Names that passed the registration check and then resolve somewhere forbidden at delivery time.
 * A trap receiver listens on 127.0.0.1 at the port every URL names: a delivery the guard let through
 * would land there. A healthy subscription (on 127.0.0.2, the one allowed address) runs beside them.
 */
describe('a target whose DNS name turns to 127.0.0.1 or 169.254.169.254 after registration', () => {
  let fc: FaultCase;
  let trap: FaultReceiver;
  let allowed: FaultReceiver;
  const resolver = new TestResolver(null);

  beforeAll(async () => {
    trap = await FaultReceiver.start('127.0.0.1');
    // Same port on the allowed address, so one URL can lead to either receiver by its DNS answer.
    fc = await startFaultCase({
      name: 'dns-rebinding',
      service: { kind: 'in-process', env: { ALLOWED_TARGET_NETWORKS: `${ALLOWED}/32` }, resolver },
      receiver: { host: ALLOWED, port: trap.port },
    });
    allowed = fc.receiver;
  });
  afterAll(async () => {
    await fc?.cleanup();
    await trap?.close();
  });

  it('refuses every delivery to the forbidden address, records why, and loses nothing', async () => {
    const names = {
      good: 'good.hookline.test',
      loopback: 'rebind-loopback.hookline.test',
      metadata: 'rebind-metadata.hookline.test',
      // The pre-request check still sees the public address; only the socket's own lookup sees loopback.
      split: 'rebind-split.hookline.test',
    };
    resolver.set(names.good, ALLOWED);
    for (const name of [names.loopback, names.metadata, names.split]) resolver.set(name, PUBLIC);
    const url = (name: string, path: string) => `http://${name}:${trap.port}${path}`;
    const subs = {
      good: await fc.subscribe(url(names.good, '/good'), { maxBatchSize: 10 }),
      loopback: await fc.subscribe(url(names.loopback, '/loopback'), { maxBatchSize: 10 }),
      metadata: await fc.subscribe(url(names.metadata, '/metadata'), { maxBatchSize: 10 }),
      split: await fc.subscribe(url(names.split, '/split'), { maxBatchSize: 10 }),
    };

    // Registration saw public addresses; now the names rebind.
    resolver.set(names.loopback, '127.0.0.1');
    resolver.set(names.metadata, '169.254.169.254');
    resolver.socketTable.set(names.split, '127.0.0.1');
    const socketLookupsBefore = resolver.calls.socket;

    const { ledger } = fc;
    const producer = fc.producer({ prefix: 'dns', batchSize: 10, maxEvents: EVENTS });
    await producer.waitForAccepted(EVENTS, 60_000);

    const attempts = async (id: string): Promise<Attempt[]> => {
      const res = await fc.call('GET', `/v1/subscriptions/${id}/deliveries?limit=20`);
      expect(res.status).toBe(200);
      return res.body.data as Attempt[];
    };
    const refused = [subs.loopback, subs.metadata, subs.split];
    // Each refused subscription retries: two refused attempts or more, while the good one delivers.
    await until(
      async () => {
        if (ledger.outstanding(allowed.posts.filter((p) => p.path === '/good')) > 3 * EVENTS) return false;
        for (const id of refused) if ((await attempts(id)).length < 2) return false;
        return true;
      },
      90_000,
      'the good subscription delivered and two refused attempts per rebound name',
    );

    expect(trap.posts).toEqual([]);
    expect(allowed.posts.filter((p) => p.path !== '/good')).toEqual([]);
    expect(resolver.calls.socket).toBeGreaterThan(socketLookupsBefore);
    const lastErrors: Record<string, string> = {};
    for (const [name, id] of Object.entries(subs)) {
      if (name === 'good') continue;
      const log = await attempts(id);
      for (const a of log) {
        expect(a.statusCode).toBeNull();
        expect(a.error).toMatch(/^forbidden: /);
      }
      lastErrors[name] = log[0]!.error!;
      // The event waits in the queue, not lost: pending, with the refusal as its last error.
      const entry = await fc.call('GET', `/v1/subscriptions/${id}/events/dns-0`);
      expect(entry.status).toBe(200);
      expect(entry.body.status).toMatch(/^(pending|delivering)$/);
      expect(entry.body.lastError).toMatch(/^forbidden: /);
    }
    expect(lastErrors.loopback).toContain('127.0.0.1');
    expect(lastErrors.metadata).toContain('169.254.169.254');
    expect(lastErrors.split).toContain('127.0.0.1');
    const refusedAttempts = Object.fromEntries(
      await Promise.all(
        Object.entries(subs)
          .filter(([name]) => name !== 'good')
          .map(async ([name, id]) => [name, (await attempts(id)).length] as const),
      ),
    );

    // The names point at the allowed address again: the queues behind the refusals drain in order.
    for (const name of [names.loopback, names.metadata, names.split]) resolver.set(name, ALLOWED);
    const recoveredAt = Date.now();
    const verdict = await fc.drain({
      recoveredAt,
      timeoutMs: 120_000,
      extra: { trapPosts: trap.posts.length, refusedAttempts, lastErrors },
    });
    expect(verdict.violations).toEqual([]);
    expect(verdict.total.delivered).toBe(EVENTS * 4);
    expect(trap.posts).toEqual([]);
  });
});
