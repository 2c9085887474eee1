import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { createPayloadCodec, ENCRYPTED_ENCODING } from '../../src/temporal/codec';
import { findTemporalBinary } from '../../src/temporal/binaries';
import { subscriberWorkflowId } from '../../src/workflows/ids';
import { KEYS, startTestApp, type TestApp } from '../support/app';
import { TestReceiver } from '../support/receiver';
import { connectDevServer, devServerAddress, type DevServerHarness } from '../support/temporal';

const run = promisify(execFile);

const OPERATOR_KEY = 'operator-key-0123456789abcdef';
const UI_ORIGIN = 'http://localhost:8233';
const KEY_SPEC = `it-1:${randomBytes(32).toString('base64')}`;
/** Appears only in the event's `data`: never in ids, types, URLs or search attributes. */
const SECRET = `tell-no-one-${randomBytes(6).toString('hex')}`;

interface PayloadJson {
  metadata: Record<string, string>;
  data: string;
}
const toJson = (p: Payload): PayloadJson => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});
const fromJson = (p: PayloadJson): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data, 'base64'),
});
const encodingOf = (p: Payload) => Buffer.from(p.metadata?.encoding ?? new Uint8Array()).toString('utf8');
const holdsSecret = (p: Payload) => Buffer.from(p.data ?? new Uint8Array()).includes(Buffer.from(SECRET));
const holds = (marker: string) => (p: Payload) =>
  Buffer.from(p.data ?? new Uint8Array()).includes(Buffer.from(marker));

/** Every payload in a history, except search attributes (indexed by the server, so never encoded). */
function payloadsIn(node: unknown, out: Payload[] = []): Payload[] {
  if (!node || typeof node !== 'object' || node instanceof Uint8Array) return out;
  if (Array.isArray(node)) {
    for (const n of node) payloadsIn(n, out);
    return out;
  }
  const o = node as Record<string, unknown>;
  if (o.data instanceof Uint8Array && typeof o.metadata === 'object') {
    out.push(o);
    return out;
  }
  for (const [k, v] of Object.entries(o)) if (k !== 'searchAttributes') payloadsIn(v, out);
  return out;
}

describe('payload encryption at rest, and the codec route for the Web UI', () => {
  let app: TestApp;
  let receiver: TestReceiver;
  let plain: DevServerHarness;
  let subscriptionId: string;
  /** The webhook-id of the delivery: it travels in the subscriber's activity inputs (encoded), not in
   * search attributes or ids, so a decoded payload shows it and an encoded one does not. */
  let msgId: string;
  /** Every workflow history of this app, as the server stores it (read without the codec); subscriber first. */
  let histories: temporal.api.history.v1.IHistory[];

  beforeAll(async () => {
    receiver = await TestReceiver.start();
    app = await startTestApp({
      PAYLOAD_ENCRYPTION_KEY: KEY_SPEC,
      CODEC_AUTH_KEYS: OPERATOR_KEY,
      CODEC_CORS_ORIGINS: UI_ORIGIN,
    });
    plain = await connectDevServer();

    const created = await app.call('POST', '/v1/subscriptions', {
      body: { url: `${receiver.url}/enc`, eventTypes: ['*'] },
    });
    expect(created.status).toBe(201);
    subscriptionId = created.body.id;
    const published = await app.call('POST', '/v1/events', {
      body: { id: 'enc-1', type: 'order.created', data: { note: SECRET } },
    });
    expect(published.status).toBe(202);
    await receiver.waitFor((r) => r.some((x) => x.path === '/hooks/enc'));
    msgId = String(receiver.requests.find((x) => x.path === '/hooks/enc')!.headers['webhook-id']);

    // Visibility lags a little: wait until the subscriber workflow is listed with the rest.
    const query = `TaskQueue = "${app.config.temporal.taskQueue}"`;
    let ids: string[] = [];
    for (let i = 0; i < 100 && !ids.includes(subscriberWorkflowId(subscriptionId)); i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 200));
      ids = [];
      for await (const w of plain.client.workflow.list({ query })) ids.push(w.workflowId);
    }
    expect(ids).toContain(subscriberWorkflowId(subscriptionId));
    // The subscriber's history first.
    ids = [
      subscriberWorkflowId(subscriptionId),
      ...ids.filter((id) => id !== subscriberWorkflowId(subscriptionId)),
    ];
    histories = await Promise.all(ids.map((id) => plain.client.workflow.getHandle(id).fetchHistory()));
  });

  afterAll(async () => {
    await app?.stop();
    await receiver?.close();
    await plain?.close();
  });

  it('delivers the event to the subscriber in plain text, and the API still reads it back', async () => {
    const delivery = receiver.requests.find((r) => r.path === '/hooks/enc')!;
    expect(JSON.parse(delivery.body).events[0].data).toEqual({ note: SECRET });
    const record = await app.call('GET', '/v1/events/enc-1');
    expect(record.status).toBe(200);
    expect(record.body.data).toEqual({ note: SECRET });
    const queue = await app.call('GET', `/v1/subscriptions/${subscriptionId}/deliveries`);
    expect(queue.status).toBe(200);
    expect(queue.body.data.length).toBeGreaterThan(0);
  });

  it('stores only ciphertext: the event data appears in no history byte without the key', () => {
    const payloads = histories.flatMap((h) => payloadsIn(h));
    expect(payloads.length).toBeGreaterThan(histories.length);
    for (const p of payloads) expect(encodingOf(p)).toBe(ENCRYPTED_ENCODING);
    for (const history of histories) {
      const bytes = Buffer.from(temporal.api.history.v1.History.encode(history).finish());
      expect(bytes.includes(Buffer.from(SECRET))).toBe(false);
    }
  });

  it("even decoded with the key, the subscriber's history holds references, never the event data", async () => {
    const codec = createPayloadCodec(app.config.encryption)!;
    const decoded = await codec.decode(payloadsIn(histories[0]!));
    for (const p of decoded) expect(encodingOf(p)).not.toBe(ENCRYPTED_ENCODING);
    expect(
      decoded.some((p) => Buffer.from(p.data ?? new Uint8Array()).includes(Buffer.from(subscriptionId))),
    ).toBe(true);
    expect(decoded.some(holdsSecret)).toBe(false);
  });

  it('the store holds the event data, the secret and static header values sealed: no byte of them in plain', async () => {
    const created = await app.call('POST', '/v1/subscriptions', {
      body: { url: `${receiver.url}/enc-headers`, eventTypes: ['*'], headers: { 'X-Token': SECRET } },
    });
    expect(created.status).toBe(201);
    const rows = await app.store.db.selectFrom('subscriptions').select(['secrets', 'headers']).execute();
    const events = await app.store.db.selectFrom('events').select(['data']).execute();
    const stored = JSON.stringify([rows, events]);
    expect(stored).not.toContain(SECRET);
    expect(stored).not.toContain(created.body.secret);
    expect(
      rows.every((r) => r.secrets.startsWith('sealed:it-1:') && r.headers.startsWith('sealed:it-1:')),
    ).toBe(true);
    // Read back through the API, everything is as it was given.
    expect((await app.call('GET', `/v1/subscriptions/${created.body.id}`)).body.headers).toEqual({
      'X-Token': SECRET,
    });
    expect((await app.call('GET', `/v1/subscriptions/${created.body.id}/secret`)).body.secret).toBe(
      created.body.secret,
    );
  });

  describe('POST /codec/decode (the Web UI codec server)', () => {
    const encrypted = () => histories.flatMap((h) => payloadsIn(h));

    it('decodes stored payloads for an operator, with CORS for the UI origin', async () => {
      const res = await app.call('POST', '/codec/decode', {
        key: OPERATOR_KEY,
        headers: { origin: UI_ORIGIN, 'x-namespace': 'default' },
        body: { payloads: encrypted().map(toJson) },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
      expect(res.headers.get('access-control-allow-credentials')).toBe('true');
      expect(res.headers.get('cache-control')).toBe('no-store');
      const decoded = (res.body.payloads as PayloadJson[]).map(fromJson);
      expect(decoded).toHaveLength(encrypted().length);
      const withMarker = decoded.filter(holds(msgId));
      expect(withMarker.length).toBeGreaterThan(0);
      expect(encodingOf(withMarker[0]!)).toBe('json/plain');
      expect(JSON.stringify(defaultPayloadConverter.fromPayload(withMarker[0]!))).toContain(msgId);
      expect(encrypted().some(holds(msgId))).toBe(false);
    });

    it('encodes at /codec/{namespace}/encode into payloads the service itself decodes', async () => {
      const original = defaultPayloadConverter.toPayload({ hello: SECRET });
      const res = await app.call('POST', '/codec/default/encode', {
        key: OPERATOR_KEY,
        body: { payloads: [toJson(original)] },
      });
      expect(res.status).toBe(200);
      const [encoded] = (res.body.payloads as PayloadJson[]).map(fromJson);
      expect(encodingOf(encoded!)).toBe(ENCRYPTED_ENCODING);
      expect(holdsSecret(encoded!)).toBe(false);
      const [back] = await createPayloadCodec(app.config.encryption)!.decode([encoded!]);
      expect(defaultPayloadConverter.fromPayload(back!)).toEqual({ hello: SECRET });
    });

    it('answers the browser preflight for the UI origin only', async () => {
      const preflight = (origin: string) =>
        app.call('OPTIONS', '/codec/decode', {
          key: null,
          headers: {
            origin,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'content-type,x-namespace,authorization',
          },
        });
      const ok = await preflight(UI_ORIGIN);
      expect(ok.status).toBe(204);
      expect(ok.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
      expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
      expect(ok.headers.get('access-control-allow-methods')).toBe('POST');
      expect(ok.headers.get('access-control-allow-headers')).toBe('content-type, authorization, x-namespace');
      expect(ok.headers.get('vary')).toMatch(/origin/i);
      const evil = await preflight('https://evil.example');
      expect(evil.status).toBe(403);
      expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    });

    it('refuses anyone but an operator, and any other browser origin, before decoding anything', async () => {
      const body = { payloads: encrypted().slice(0, 1).map(toJson) };
      const call = (key: string | null, headers: Record<string, string> = {}) =>
        app.call('POST', '/codec/decode', { key, body, headers });
      const anonymous = await call(null, { origin: UI_ORIGIN });
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.error.code).toBe('unauthorized');
      // The UI can read the refusal (CORS headers on errors too).
      expect(anonymous.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
      // A tenant's API key decodes nothing: the codec would reveal every tenant's data.
      expect((await call(KEYS.acme)).status).toBe(401);
      expect((await call(`${OPERATOR_KEY}x`)).status).toBe(401);
      const otherSite = await call(OPERATOR_KEY, { origin: 'https://evil.example' });
      expect(otherSite.status).toBe(403);
      expect(otherSite.headers.get('access-control-allow-origin')).toBeNull();
      expect(JSON.stringify(otherSite.body)).not.toContain(SECRET);
    });

    it('a browser signed in at /codec/login decodes with its session cookie alone', async () => {
      const page = await fetch(`${app.url}/codec/login`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<form method="post" action="login">');

      const login = (key: string) =>
        fetch(`${app.url}/codec/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ key }).toString(),
        });
      const wrong = await login(KEYS.acme);
      expect(wrong.status).toBe(401);
      expect(wrong.headers.get('set-cookie')).toBeNull();

      const ok = await login(OPERATOR_KEY);
      expect(ok.status).toBe(200);
      const setCookie = ok.headers.get('set-cookie')!;
      expect(setCookie).toMatch(/^hookline_codec=\d+\.[A-Za-z0-9_-]{43}; /);
      expect(setCookie).toMatch(/HttpOnly/);
      expect(setCookie).toMatch(/Path=\/codec/);
      expect(setCookie).toMatch(/SameSite=Strict/);
      expect(setCookie).not.toContain(OPERATOR_KEY);
      const cookie = setCookie.split(';')[0]!;

      const body = { payloads: encrypted().map(toJson) };
      const res = await app.call('POST', '/codec/decode', {
        key: null,
        headers: { cookie, origin: UI_ORIGIN },
        body,
      });
      expect(res.status).toBe(200);
      expect((res.body.payloads as PayloadJson[]).map(fromJson).some(holds(msgId))).toBe(true);

      const forged = `${cookie.slice(0, -2)}${cookie.endsWith('AA') ? 'BB' : 'AA'}`;
      const refused = await app.call('POST', '/codec/decode', {
        key: null,
        headers: { cookie: forged },
        body,
      });
      expect(refused.status).toBe(401);
    });

    it('the Temporal CLI shows the decoded history through the codec route', async () => {
      const cli = findTemporalBinary('cli');
      expect(cli).not.toBeNull();
      const show = (extra: string[]) =>
        run(
          cli!,
          [
            'workflow',
            'show',
            '--address',
            devServerAddress(),
            '--namespace',
            'default',
            '--workflow-id',
            subscriberWorkflowId(subscriptionId),
            '--output',
            'json',
            ...extra,
          ],
          { maxBuffer: 16 * 1024 * 1024 },
        );
      const withoutCodec = await show([]);
      expect(withoutCodec.stdout).not.toContain(SECRET);
      const withCodec = await show([
        '--codec-endpoint',
        `${app.url}/codec`,
        '--codec-auth',
        `Bearer ${OPERATOR_KEY}`,
      ]);
      // Nested payloads print as proto JSON (`"data": "<base64>"`): decoded, they are readable JSON.
      const decodedData = (stdout: string) =>
        [...stdout.matchAll(/"data":\s*"([A-Za-z0-9+/=]*)"/g)].map((m) =>
          Buffer.from(m[1]!, 'base64').toString('utf8'),
        );
      // The delivery's activity input names its webhook-id: readable through the codec only.
      expect(decodedData(withoutCodec.stdout).some((d) => d.includes(msgId))).toBe(false);
      expect(decodedData(withCodec.stdout).some((d) => d.includes(msgId))).toBe(true);
      expect(withCodec.stdout).not.toContain(SECRET);
    });
  });

  it('the handshake callback checks the code against the sealed store: right code 200 (twice), wrong 403', async () => {
    receiver.respond(() => ({ status: 200 }));
    const created = await app.call('POST', '/v1/subscriptions', {
      body: { url: `${receiver.url}/enc-validate`, eventTypes: ['*'], requireValidation: true },
    });
    expect(created.status).toBe(201);
    await receiver.waitFor((r) => r.some((x) => x.method === 'OPTIONS' && x.path === '/hooks/enc-validate'));
    const callback = new URL(
      receiver.requests.find((r) => r.path === '/hooks/enc-validate')!.headers[
        'webhook-request-callback'
      ] as string,
    );
    const code = callback.searchParams.get('code')!;
    const path = `${callback.pathname}?code=${code}`;
    expect((await app.call('GET', path, { key: null })).status).toBe(200);
    expect((await app.call('GET', `/v1/subscriptions/${created.body.id}`)).body.status).toBe('active');
    expect((await app.call('GET', path, { key: null })).status).toBe(200);
    const wrong = `${callback.pathname}?code=${'C'.repeat(32)}`;
    expect((await app.call('GET', wrong, { key: null })).status).toBe(403);
    // The code is in the store sealed, and in no workflow history.
    const row = await app.store.db
      .selectFrom('subscriptions')
      .select('handshake_code')
      .where('id', '=', created.body.id)
      .executeTakeFirstOrThrow();
    expect(row.handshake_code).not.toContain(code);
    const all: string[] = [];
    for await (const w of plain.client.workflow.list({
      query: `TaskQueue = "${app.config.temporal.taskQueue}"`,
    }))
      all.push(w.workflowId);
    for (const id of all) {
      const history = await plain.client.workflow.getHandle(id).fetchHistory();
      const decoded = await createPayloadCodec(app.config.encryption)!.decode(payloadsIn(history));
      for (const p of decoded)
        expect(Buffer.from(p.data ?? new Uint8Array()).includes(Buffer.from(code))).toBe(false);
    }
  });
});
