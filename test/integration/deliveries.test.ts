import type { IncomingHttpHeaders } from 'node:http';
import { CloudEvent, HTTP } from 'cloudevents';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { generateSecret } from '../../src/delivery/signing';
import type { HooklineEvent, SigningSecret } from '../../src/domain/types';
import { TestReceiver, type ReceivedRequest } from '../support/receiver';
import { makeEvents, startSubscriberHarness, waitUntil, type SubscriberHarness } from '../support/subscriber';
import { connectDevServer, type DevServerHarness } from '../support/temporal';

/** Node's headers as the plain string map a webhook library takes (repeated headers joined). */
function flat(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** What a Standard Webhooks receiver does: verify the signature over the raw body, then parse it. */
function verify(secret: string, req: ReceivedRequest): unknown {
  return new Webhook(secret).verify(req.body, flat(req.headers));
}

function verifyFails(secret: string, req: ReceivedRequest): void {
  expect(() => verify(secret, req)).toThrow(WebhookVerificationError);
  expect(() => verify(secret, req)).toThrow('No matching signature found');
}

const signatures = (req: ReceivedRequest) => (req.headers['webhook-signature'] as string).split(' ');

/** Events with every field filled, non-ASCII data included (the signature covers UTF-8 bytes). */
function richEvents(prefix: string): HooklineEvent[] {
  return [
    {
      id: `${prefix}-order-42-created`,
      type: 'order.created',
      source: 'shop',
      subject: 'orders/42',
      category: 'order',
      labels: { pool: 'prod-1', region: 'eu' },
      time: '2026-11-22T10:00:00.000Z',
      data: { total: 42.5, note: 'café 🚀 <ok> & "done"', items: [{ sku: 'A-1', qty: 2 }] },
    },
    {
      id: `${prefix}-order-42-paid`,
      type: 'order.paid',
      source: 'https://shop.example/api',
      subject: null,
      category: null,
      labels: {},
      time: '2026-11-22T10:00:05.250Z',
      data: { paid: true },
    },
    {
      id: `${prefix}-order-43-created`,
      type: 'order.created',
      source: 'shop',
      subject: 'orders/43',
      category: 'order',
      labels: { pool: 'prod-2' },
      time: '2026-11-22T10:01:00.000Z',
      data: ['a', 1, null],
    },
  ];
}

describe('deliveries on the dev server: formats and signatures', () => {
  let temporal: DevServerHarness;
  let receiver: TestReceiver;
  let h: SubscriberHarness;

  beforeAll(async () => {
    temporal = await connectDevServer();
  });
  afterAll(async () => {
    await temporal.close();
  });
  beforeEach(async () => {
    h = await startSubscriberHarness({ client: temporal.client });
    receiver = await TestReceiver.start();
  });
  afterEach(async () => {
    await h.stop();
    await receiver.close();
  });

  type Sub = Awaited<ReturnType<SubscriberHarness['subscribe']>>;
  const subscribe = (overrides: Partial<Parameters<SubscriberHarness['subscribe']>[0]>) =>
    h.subscribe({ url: receiver.url, ...overrides });

  /** Like subscribe, with the given signing secrets instead of the generated one (written in the store). */
  async function subscribeWithSecrets(secrets: SigningSecret[]): Promise<Sub> {
    const sub = await h.subscribe({ url: receiver.url }, { start: false });
    await h.store.db
      .updateTable('subscriptions')
      .set({ secrets: JSON.stringify(secrets) })
      .where('id', '=', sub.id)
      .execute();
    await h.core.subscribers.start(sub.id);
    return sub;
  }

  describe('raw', () => {
    it('every delivery, retries included, verifies with the standardwebhooks package', async () => {
      receiver.respond((_req, n) => ({ status: n === 0 ? 500 : 200 }));
      const sub = await subscribe({ maxBatchSize: 2 });
      const events = richEvents('raw');
      await h.publish(events);
      await receiver.waitFor((r) => r.length >= 3);

      const [first, retry, second] = receiver.requests as [ReceivedRequest, ReceivedRequest, ReceivedRequest];
      for (const req of receiver.requests) {
        expect(req.method).toBe('POST');
        expect(req.headers['content-type']).toBe('application/json');
        expect(req.headers['user-agent']).toBe('hookline/test');
        expect(req.headers['webhook-id']).toMatch(/^msg_[0-9a-f]{32}$/);
        // Unix seconds, not ms; taken at send time.
        expect(req.headers['webhook-timestamp']).toMatch(/^\d{10}$/);
        expect(Math.abs(Number(req.headers['webhook-timestamp']) - req.at / 1000)).toBeLessThan(30);
        expect(signatures(req)).toEqual([expect.stringMatching(/^v1,[A-Za-z0-9+/]{43}=$/)]);
        expect(req.headers['webhook-request-origin']).toBeUndefined();
        const payload = verify(sub.secret, req) as { id: string; subscriptionId: string };
        expect(payload.id).toBe(req.headers['webhook-id']);
      }
      // A retry carries the same webhook-id, freshly signed.
      expect(retry.headers['webhook-id']).toBe(first.headers['webhook-id']);
      expect(retry.body).toBe(first.body);
      expect(second.headers['webhook-id']).not.toBe(first.headers['webhook-id']);

      const payloads = [retry, second].map((r) => verify(sub.secret, r));
      expect(payloads).toEqual([
        { id: first.headers['webhook-id'], subscriptionId: sub.id, events: events.slice(0, 2) },
        { id: second.headers['webhook-id'], subscriptionId: sub.id, events: events.slice(2) },
      ]);
    });

    it('a body altered on the way, or another secret, fails verification', async () => {
      const sub = await subscribe({});
      await h.publish(makeEvents(1, 'tamper'));
      await receiver.waitFor((r) => r.length >= 1);
      const req = receiver.requests[0]!;
      expect(() => verify(sub.secret, req)).not.toThrow();
      expect(() => verify(sub.secret, { ...req, body: req.body.replace('"n":0', '"n":1') })).toThrow(
        WebhookVerificationError,
      );
      verifyFails(generateSecret(), req);
    });
  });

  describe('secret rotation', () => {
    it('after a rotation both the old and the new secret verify, the new one signed first', async () => {
      const sub = await subscribe({});
      await h.publish(makeEvents(1, 'before'));
      await receiver.waitFor((r) => r.length >= 1);
      const before = receiver.requests[0]!;
      expect(signatures(before)).toHaveLength(1);

      const newSecret = await h.core.subscriptions.rotateSecret(h.tenant, sub.id);
      const secrets = (await h.store.subscriptions.forDelivery(sub.id, new Date()))!.secrets;
      expect(secrets.map((s) => s.secret)).toEqual([newSecret, sub.secret]);
      expect(secrets[0]!.expiresAt).toBeNull();
      // The old one signs on for 24 h.
      const overlapHours = (Date.parse(secrets[1]!.expiresAt!) - Date.now()) / 3_600_000;
      expect(overlapHours).toBeGreaterThan(23.9);
      expect(overlapHours).toBeLessThanOrEqual(24);

      await h.publish(makeEvents(2, 'after'));
      await receiver.waitFor(() => receiver.eventIds().length >= 3);
      const after = receiver.requests.slice(1);
      expect(after.length).toBeGreaterThanOrEqual(1);
      for (const req of after) {
        const [current, old] = signatures(req) as [string, string];
        expect(signatures(req)).toHaveLength(2);
        expect(current).not.toBe(old);
        expect(() => verify(newSecret, req)).not.toThrow();
        expect(() => verify(sub.secret, req)).not.toThrow();
        // The first signature is the new secret's: a receiver that already switched needs no other.
        expect(() =>
          verify(newSecret, { ...req, headers: { ...req.headers, 'webhook-signature': current } }),
        ).not.toThrow();
        verifyFails(newSecret, { ...req, headers: { ...req.headers, 'webhook-signature': old } });
      }
      // Deliveries before the rotation were never signed with the new secret.
      verifyFails(newSecret, before);
    });

    it('an old secret whose overlap has ended no longer signs', async () => {
      const newSecret = generateSecret();
      const oldSecret = generateSecret();
      const sub = await subscribeWithSecrets([
        { secret: newSecret, expiresAt: null },
        { secret: oldSecret, expiresAt: new Date(Date.now() - 60_000).toISOString() },
      ]);
      await h.publish(makeEvents(2, 'expired'));
      await receiver.waitFor(() => receiver.eventIds().length >= 2);
      for (const req of receiver.requests) {
        expect(signatures(req)).toHaveLength(1);
        expect(() => verify(newSecret, req)).not.toThrow();
        verifyFails(oldSecret, req);
      }
    });
  });

  describe('cloudevents', () => {
    it('a batch parses with the cloudevents package, every attribute carried', async () => {
      const sub = await subscribe({ format: 'cloudevents', maxBatchSize: 10 });
      const events = richEvents('ce');
      await h.publish(events);
      await receiver.waitFor((r) => r.flatMap((req) => JSON.parse(req.body) as unknown[]).length >= 3);
      const all = receiver.requests;
      for (const req of all) {
        expect(req.headers['content-type']).toBe('application/cloudevents-batch+json');
        expect(() => verify(sub.secret, req)).not.toThrow();
      }
      const parsed = all.flatMap((req) => {
        const got = HTTP.toEvent({ headers: req.headers, body: req.body });
        expect(Array.isArray(got)).toBe(true);
        return got as CloudEvent<unknown>[];
      });
      expect(parsed.map((e) => e.id)).toEqual(events.map((e) => e.id));
      expect(parsed.map((e) => e.type)).toEqual(['order.created', 'order.paid', 'order.created']);
      expect(parsed.map((e) => e.source)).toEqual(['shop', 'https://shop.example/api', 'shop']);
      expect(parsed.map((e) => e.subject)).toEqual(['orders/42', undefined, 'orders/43']);
      expect(parsed.map((e) => e.data)).toEqual(events.map((e) => e.data));
      expect(parsed.map((e) => e.specversion)).toEqual(['1.0', '1.0', '1.0']);
      expect(parsed.map((e) => new Date(e.time!).toISOString())).toEqual(events.map((e) => e.time));
      expect(parsed[0]).toMatchObject({
        datacontenttype: 'application/json',
        category: 'order',
        labelpool: 'prod-1',
        labelregion: 'eu',
      });
      expect(parsed[1]).not.toHaveProperty('category');
      // Each parsed event passes the SDK's own validation of the CloudEvents 1.0 schema.
      parsed.forEach((e) => expect(e.validate()).toBe(true));
    });

    it('a free-form producer source is sent as a URI-reference, so the batch still parses', async () => {
      const sub = await subscribe({ format: 'cloudevents', maxBatchSize: 10 });
      const [first, second] = makeEvents(2, 'src');
      await h.publish([
        { ...first!, source: 'Billing Service: eu' },
        { ...second!, source: 'https://shop.example/api' },
      ]);
      await receiver.waitFor((r) => r.length >= 1);
      const got = HTTP.toEvent({ headers: receiver.requests[0]!.headers, body: receiver.requests[0]!.body });
      expect((got as CloudEvent<unknown>[]).map((e) => e.source)).toEqual([
        'Billing%20Service%3A%20eu',
        'https://shop.example/api',
      ]);
      expect(decodeURIComponent((got as CloudEvent<unknown>[])[0]!.source)).toBe('Billing Service: eu');
    });

    it('with maxBatchSize 1, each delivery is one structured-mode event', async () => {
      const sub = await subscribe({ format: 'cloudevents', maxBatchSize: 1 });
      const events = richEvents('ces');
      await h.publish(events);
      await receiver.waitFor((r) => r.length >= 3);
      expect(receiver.requests).toHaveLength(3);
      receiver.requests.forEach((req, i) => {
        expect(req.headers['content-type']).toBe('application/cloudevents+json');
        expect(() => verify(sub.secret, req)).not.toThrow();
        const got = HTTP.toEvent({ headers: req.headers, body: req.body });
        expect(Array.isArray(got)).toBe(false);
        const event = got as CloudEvent<unknown>;
        expect(event).toMatchObject({ id: events[i]!.id, type: events[i]!.type, source: events[i]!.source });
        expect(event.data).toEqual(events[i]!.data);
        expect(event.validate()).toBe(true);
      });
    });
  });

  describe('chat formats', () => {
    it('slack and googlechat get {"text": …} naming the types; teams gets an Adaptive Card message', async () => {
      const events = richEvents('chat');
      const secrets = new Map<string, string>();
      for (const format of ['slack', 'googlechat', 'teams'] as const) {
        secrets.set(format, (await subscribe({ format, url: `${receiver.url}?format=${format}` })).secret);
      }
      await h.publish(events);
      await receiver.waitFor((r) => r.length >= 3);
      const byFormat = (format: string) => {
        const req = receiver.requests.find((r) => r.path.endsWith(`format=${format}`))!;
        expect(req.headers['content-type']).toBe('application/json');
        expect(() => verify(secrets.get(format)!, req)).not.toThrow();
        return JSON.parse(req.body) as Record<string, unknown>;
      };

      for (const format of ['slack', 'googlechat']) {
        const body = byFormat(format);
        expect(Object.keys(body)).toEqual(['text']);
        expect(body.text).toEqual(expect.any(String));
        expect(body.text).toContain('order.created');
        expect(body.text).toContain('order.paid');
        expect(body.text).toContain('3 events');
      }

      const teams = byFormat('teams') as {
        type: string;
        attachments: { contentType: string; content: { type: string; version: string; body: unknown[] } }[];
      };
      expect(teams.type).toBe('message');
      expect(teams.attachments).toHaveLength(1);
      const card = teams.attachments[0]!;
      expect(card.contentType).toBe('application/vnd.microsoft.card.adaptive');
      expect(card.content).toMatchObject({ type: 'AdaptiveCard', version: expect.any(String) });
      expect(card.content.body.length).toBeGreaterThan(0);
      const cardText = JSON.stringify(card.content.body);
      expect(cardText).toContain('order.created');
      expect(cardText).toContain('order.paid');
    });
  });

  describe('headers', () => {
    it('static headers arrive, validated subscriptions carry WebHook-Request-Origin, reserved names never override', async () => {
      const staticHeaders = {
        'X-Team': 'payments',
        'x-trace-tag': 'a b c',
        'webhook-id': 'msg_forged',
        'Webhook-Signature': 'v1,forged',
        'WEBHOOK-TIMESTAMP': '1',
        'User-Agent': 'evil/1.0',
        'Content-Type': 'text/plain',
        'WebHook-Request-Origin': 'evil.example',
      };
      // A subscription that passed its handshake (activated in the store before its workflow starts).
      const validated = await h.subscribe(
        { requireValidation: true, headers: staticHeaders, url: `${receiver.url}?validated=1` },
        { start: false },
      );
      const handshake = await h.store.subscriptions.currentHandshake(validated.id);
      await h.store.subscriptions.transition(
        validated.id,
        'pending_validation',
        'active',
        new Date(),
        handshake!.handshake.id,
      );
      await h.core.subscribers.start(validated.id);
      const plain = await subscribe({ headers: staticHeaders, url: `${receiver.url}?validated=0` });
      const secretOf = (req: ReceivedRequest) =>
        (req.path.endsWith('validated=1') ? validated : plain).secret;
      await h.publish(makeEvents(1, 'v'));
      await receiver.waitFor((r) => r.length >= 2);

      for (const req of receiver.requests) {
        expect(req.headers['x-team']).toBe('payments');
        expect(req.headers['x-trace-tag']).toBe('a b c');
        expect(req.headers['webhook-id']).toMatch(/^msg_[0-9a-f]{32}$/);
        expect(req.headers['webhook-timestamp']).not.toBe('1');
        expect(req.headers['user-agent']).toBe('hookline/test');
        expect(req.headers['content-type']).toBe('application/json');
        expect(signatures(req)).toHaveLength(1);
        expect(() => verify(secretOf(req), req)).not.toThrow();
      }
      const validatedReq = receiver.requests.find((r) => r.path.endsWith('validated=1'))!;
      const plainReq = receiver.requests.find((r) => r.path.endsWith('validated=0'))!;
      expect(validatedReq.headers['webhook-request-origin']).toBe('hookline.test');
      expect(plainReq.headers['webhook-request-origin']).toBeUndefined();
    });
  });

  describe('answers and settings that must not stop deliveries', () => {
    it('a static header undici cannot send (keep-alive, upgrade, expect) is left out; the delivery goes', async () => {
      const sub = await subscribe({
        headers: { 'Keep-Alive': 'timeout=5', Upgrade: 'h2c', Expect: '100-continue', 'X-Kept': 'yes' },
      });
      await h.publish(makeEvents(1, 'hop'));
      await receiver.waitFor((r) => r.length >= 1, 10_000);
      const req = receiver.requests[0]!;
      expect(req.headers['x-kept']).toBe('yes');
      expect(req.headers.upgrade).toBeUndefined();
      expect(req.headers.expect).toBeUndefined();
      expect(() => verify(sub.secret, req)).not.toThrow();
      await waitUntil(
        async () => (await h.store.attempts.page(sub.id, { limit: 10 })).data[0]?.statusCode === 200,
      );
    });

    it('an absurd Retry-After is capped: the worker survives and keeps delivering for others', async () => {
      receiver.respond((req) =>
        req.path.endsWith('absurd=1')
          ? { status: 503, headers: { 'retry-after': '9'.repeat(400) } }
          : { status: 200 },
      );
      const absurd = await subscribe({ url: `${receiver.url}?absurd=1`, eventTypes: ['absurd.*'] });
      await h.publish(makeEvents(1, 'absurd').map((e) => ({ ...e, type: 'absurd.x' })));
      await receiver.waitFor((r) => r.length >= 1, 10_000);
      const attempts = async () => (await h.store.attempts.page(absurd.id, { limit: 10 })).data;
      await waitUntil(async () => (await attempts()).length >= 1);
      expect((await attempts())[0]).toMatchObject({ attempt: 1, statusCode: 503, errorClass: 'status' });
      expect(h.worker.isPolling()).toBe(true);
      // Retry-After is honoured, cut to 24 h: no second attempt soon.
      expect((await h.core.subscriptions.queue(h.tenant, absurd.id)).data[0]).toMatchObject({
        status: 'delivering',
        attempts: 1,
      });

      await subscribe({ url: `${receiver.url}?absurd=0`, eventTypes: ['other.*'] });
      await h.publish(makeEvents(1, 'other').map((e) => ({ ...e, type: 'other.x' })));
      await receiver.waitFor((r) => r.some((q) => q.path.endsWith('absurd=0')), 10_000);
      expect(receiver.requests.filter((q) => q.path.endsWith('absurd=1'))).toHaveLength(1);
    });
  });

  describe('rate limit', () => {
    it('rateLimitPerSecond 2 spaces requests >= 500 ms apart, across a worker restart too', async () => {
      const sub = await subscribe({ maxBatchSize: 1, rateLimitPerSecond: 2 });
      const events = makeEvents(8, 'rl');
      await h.publish(events);
      await receiver.waitFor((r) => r.length >= 4, 30_000);
      await h.stopWorker();
      const stoppedAfter = receiver.requests.length;
      await h.restartWorker();
      await receiver.waitFor(() => new Set(receiver.eventIds()).size >= events.length, 60_000);

      expect(stoppedAfter).toBeLessThan(receiver.requests.length);
      expect([...new Set(receiver.eventIds())]).toEqual(events.map((e) => e.id));
      const gaps = receiver.requests.slice(1).map((r, i) => r.at - receiver.requests[i]!.at);
      // ~500 ms: the receiver's clock stamps arrival, a few ms after the attempt was started.
      for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(480);
    });
  });
});
