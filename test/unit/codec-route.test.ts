import { createHash, randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import express from 'express';
import { errorMiddleware } from '../../src/api/app';
import { HttpError } from '../../src/api/errors';
import {
  CODEC_MAX_BODY_BYTES,
  CODEC_SESSION_SECONDS,
  codecRouter,
  type CodecRouteOptions,
} from '../../src/api/routes/codec';
import { createLogger } from '../../src/logger';
import { AesGcmPayloadCodec, parseKeySpec, type EncryptionKey } from '../../src/temporal/codec';

const OPERATOR_KEY = 'operator-key-0123456789abcdef';
const key = parseKeySpec(`r1:${randomBytes(32).toString('base64')}`) as EncryptionKey;
const codec = new AesGcmPayloadCodec({ current: key, decryptOnly: [] });

const toJson = (p: Payload) => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

/** The codec router alone, with the app's 404 and error middleware, on a free loopback port. */
async function serve(overrides: Partial<CodecRouteOptions> = {}) {
  let nowMs = Date.now();
  const app = express()
    .use(
      codecRouter({
        codec,
        authKeyDigests: [createHash('sha256').update(OPERATOR_KEY).digest()],
        corsOrigins: ['http://localhost:8233'],
        secureCookies: false,
        now: () => nowMs,
        ...overrides,
      }),
    )
    .use((_req, _res, next) => next(HttpError.notFound('route')))
    .use(errorMiddleware(createLogger('silent')));
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    advance: (ms: number) => (nowMs += ms),
    post: async (path: string, body: string, headers: Record<string, string> = {}) => {
      const res = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${OPERATOR_KEY}`, 'content-type': 'application/json', ...headers },
        body,
      });
      return { status: res.status, headers: res.headers, body: (await res.json()) as any };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('the codec route on its own', () => {
  it('is off (404 with the settings it needs) without a codec or without operator keys', async () => {
    for (const overrides of [{ codec: null }, { authKeyDigests: [] }]) {
      const s = await serve(overrides);
      const res = await s.post('/codec/decode', '{"payloads":[]}');
      expect(res.status).toBe(404);
      expect(res.body.error.message).toMatch(/PAYLOAD_ENCRYPTION_KEY.*CODEC_AUTH_KEYS/);
      expect((await fetch(`${s.base}/codec/login`)).status).toBe(404);
      await s.close();
    }
  });

  it('answers 400 decode_failed for a tampered payload and for an unknown key id, never the plain text', async () => {
    const s = await serve();
    const [encoded] = await codec.encode([defaultPayloadConverter.toPayload('secret value')]);
    const tampered = Buffer.from(encoded!.data!);
    tampered[20]! ^= 0xff;
    const bad = await s.post(
      '/codec/decode',
      JSON.stringify({ payloads: [toJson({ ...encoded!, data: tampered })] }),
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('decode_failed');
    expect(bad.body.error.message).toMatch(/failed authentication/);
    expect(JSON.stringify(bad.body)).not.toContain('secret value');

    const other = new AesGcmPayloadCodec({
      current: parseKeySpec(`r0:${randomBytes(32).toString('base64')}`) as EncryptionKey,
      decryptOnly: [],
    });
    const [foreign] = await other.encode([defaultPayloadConverter.toPayload('x')]);
    const unknown = await s.post('/codec/decode', JSON.stringify({ payloads: [toJson(foreign!)] }));
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toMatch(/key id "r0", which is not configured/);
    await s.close();
  });

  it('checks the body: JSON only, base64 fields, at most the documented size', async () => {
    const s = await serve();
    expect((await s.post('/codec/decode', 'payloads=1', { 'content-type': 'text/plain' })).status).toBe(415);
    const notBase64 = await s.post('/codec/decode', JSON.stringify({ payloads: [{ data: 'no spaces!' }] }));
    expect(notBase64.status).toBe(400);
    expect(notBase64.body.error.details[0].path).toBe('payloads.0.data');
    const big = JSON.stringify({ payloads: [{ data: 'A'.repeat(CODEC_MAX_BODY_BYTES) }] });
    const tooBig = await s.post('/codec/decode', big);
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.error.code).toBe('payload_too_large');
    // The operator check comes before the body is read: an anonymous huge body is a 401, not a 413.
    expect((await s.post('/codec/decode', big, { authorization: '' })).status).toBe(401);
    // An empty Payloads object is a valid request.
    expect((await s.post('/codec/encode', '{}')).body).toEqual({ payloads: [] });
    await s.close();
  });

  it('a session cookie stops working after its lifetime', async () => {
    const s = await serve();
    const login = await fetch(`${s.base}/codec/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `key=${encodeURIComponent(OPERATOR_KEY)}`,
    });
    expect(login.headers.get('set-cookie')).toMatch(new RegExp(`Max-Age=${CODEC_SESSION_SECONDS}`));
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    expect((await s.post('/codec/encode', '{}', { authorization: '', cookie })).status).toBe(200);
    s.advance(CODEC_SESSION_SECONDS * 1000 + 1000);
    expect((await s.post('/codec/encode', '{}', { authorization: '', cookie })).status).toBe(401);
    await s.close();
  });

  it('over https the session cookie is Secure and SameSite=None (the UI may be another site)', async () => {
    const s = await serve({ secureCookies: true });
    const login = await fetch(`${s.base}/codec/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `key=${encodeURIComponent(OPERATOR_KEY)}`,
    });
    expect(login.headers.get('set-cookie')).toMatch(/; Secure/);
    expect(login.headers.get('set-cookie')).toMatch(/SameSite=None/);
    await s.close();
  });
});
