import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { startTestApp, type TestApp } from '../support/app';
import { capturingLogger, WARN, type LogRecord } from '../support/logs';

/** `depth` arrays inside one another around `leaf`: `[[[leaf]]]` for 3. */
function nested(depth: number, leaf: unknown = 1): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

/** The same as raw JSON text: building it as a string needs no recursion to serialise either. */
function nestedJson(depth: number): string {
  return `${'['.repeat(depth)}1${']'.repeat(depth)}`;
}

const envelope = (code: string) => ({
  error: { code, message: expect.any(String), details: expect.any(Array) },
});

/**
 * Malformed input of any kind answers 4xx with the error body (API.md, Conventions), and the service
 * logs it as a warning at most: a client must not be able to fill the log with errors and stacks.
 */
describe('malformed input', () => {
  const { logger, records } = capturingLogger();
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({}, { logger });
  });
  afterAll(async () => {
    await app.stop();
  });
  beforeEach(() => records.splice(0));
  afterEach(() => {
    const loud = records.filter((r: LogRecord) => r.level > WARN || JSON.stringify(r).includes('"stack"'));
    expect(loud).toEqual([]);
  });

  describe('deeply nested data', () => {
    it('answers 400 at `data` for an event nested 4,100 levels deep (well under 1 MiB)', async () => {
      const raw = `{"type":"deep","data":${nestedJson(4100)}}`;
      expect(raw.length).toBeLessThan(16 * 1024);
      const res = await app.call('POST', '/v1/events', {
        raw,
        headers: { 'content-type': 'application/json' },
      });
      expect(res.status).toBe(400);
      expect(res.body).toEqual(envelope('validation_failed'));
      expect(res.body.error.details).toEqual([{ path: 'data', message: expect.stringMatching(/64/) }]);
    });

    it('answers 400 at `events.N.data` in a batch, and stores nothing of it', async () => {
      const raw = JSON.stringify({
        events: [
          { id: 'shallow-before-deep', type: 'deep', data: { a: 1 } },
          { id: 'deep-one', type: 'deep', data: '__DEEP__' },
        ],
      }).replace('"__DEEP__"', `{"a":${nestedJson(4100)}}`);
      const res = await app.call('POST', '/v1/events', {
        raw,
        headers: { 'content-type': 'application/json' },
      });
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([{ path: 'events.1.data', message: expect.any(String) }]);
      expect((await app.call('GET', '/v1/events/shallow-before-deep')).status).toBe(404);
    });

    it('takes data nested 64 levels deep and refuses 65', async () => {
      const at64 = await app.call('POST', '/v1/events', { body: { type: 'deep', data: nested(64) } });
      expect(at64.status).toBe(202);
      const at65 = await app.call('POST', '/v1/events', { body: { type: 'deep', data: nested(65) } });
      expect(at65.status).toBe(400);
      expect(at65.body.error.details).toEqual([{ path: 'data', message: expect.any(String) }]);
    });
  });

  describe('Content-Encoding', () => {
    const json = JSON.stringify({ type: 'compressed', data: { ok: true } });

    it.each(['gzip', 'br', 'deflate'])(
      'answers 400 to a body that claims %s but is not',
      async (encoding) => {
        const res = await app.call('POST', '/v1/events', {
          raw: json,
          headers: { 'content-type': 'application/json', 'content-encoding': encoding },
        });
        expect(res.status).toBe(400);
        expect(res.body).toEqual(envelope('validation_failed'));
        expect(res.body.error.message).toContain(encoding);
      },
    );

    it.each([
      ['gzip', gzipSync],
      ['br', brotliCompressSync],
      ['deflate', deflateSync],
    ] as const)('reads a body that really is %s', async (encoding, compress) => {
      const res = await fetch(`${app.url}/v1/events`, {
        method: 'POST',
        headers: {
          authorization: 'Bearer acme-key-0123456789abcdef',
          'content-type': 'application/json',
          'content-encoding': encoding,
        },
        body: compress(Buffer.from(json)),
      });
      expect(res.status).toBe(202);
    });

    it('answers 415 to an encoding it does not know', async () => {
      const res = await app.call('POST', '/v1/events', {
        raw: json,
        headers: { 'content-type': 'application/json', 'content-encoding': 'compress' },
      });
      expect(res.status).toBe(415);
      expect(res.body).toEqual(envelope('unsupported_media_type'));
    });
  });

  describe('bad percent-escapes in a path', () => {
    it.each(['/v1/subscriptions/sub_%E0%A4', '/v1/subscriptions/sub_%zz/pause', '/v1/events/%E0%A4'])(
      'answer 400 on %s',
      async (path) => {
        const res = await app.call(path.endsWith('pause') ? 'POST' : 'GET', path);
        expect(res.status).toBe(400);
        expect(res.body).toEqual(envelope('validation_failed'));
      },
    );

    it('answer 400 on the unauthenticated validation callback', async () => {
      const res = await app.call('GET', '/v1/validate/%E0%A4?code=x', { key: null });
      expect(res.status).toBe(400);
      expect(res.body).toEqual(envelope('validation_failed'));
    });

    it('still check the key first', async () => {
      expect((await app.call('GET', '/v1/events/%E0%A4', { key: null })).status).toBe(401);
    });
  });

  describe('subscription list cursor', () => {
    it.each([
      'sub_00000000000000000000000000000000',
      'garbage',
      'eyJub3QiOiJvdXJzIn0', // base64url of {"not":"ours"}
      'e30', // base64url of {}
      '!!!',
    ])('answers 400 at `cursor` to %j', async (cursor) => {
      const res = await app.call('GET', `/v1/subscriptions?cursor=${encodeURIComponent(cursor)}`);
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([{ path: 'cursor', message: expect.any(String) }]);
    });

    it('hands out cursors that are opaque and lead to the next page', async () => {
      for (let i = 0; i < 3; i++) {
        const res = await app.call('POST', '/v1/subscriptions', {
          body: { url: `http://127.0.0.1:9/cursor-${i}`, eventTypes: ['a'] },
        });
        expect(res.status).toBe(201);
      }
      const first = await app.call('GET', '/v1/subscriptions?limit=1');
      expect(first.body.nextCursor).toEqual(expect.any(String));
      expect(first.body.nextCursor).not.toContain('sub_');
      const second = await app.call('GET', `/v1/subscriptions?limit=1&cursor=${first.body.nextCursor}`);
      expect(second.status).toBe(200);
      expect(second.body.data).toHaveLength(1);
      expect(second.body.data[0].id > first.body.data[0].id).toBe(true);
    });
  });

  describe('timestamps outside years 0000-9999', () => {
    it.each(['9999-12-31T23:59:59-23:59', '0000-01-01T00:00:00+00:01'])(
      'answer 400 at `time` to %s',
      async (time) => {
        const res = await app.call('POST', '/v1/events', { body: { type: 'late', time, data: null } });
        expect(res.status).toBe(400);
        expect(res.body.error.details).toEqual([{ path: 'time', message: expect.any(String) }]);
      },
    );

    it('take the last second of 9999 and the first of 0000', async () => {
      for (const time of ['9999-12-31T23:59:59.999Z', '0000-01-01T00:00:00Z', '0000-01-01T00:00:00-00:01']) {
        const res = await app.call('POST', '/v1/events', { body: { type: 'edge', time, data: null } });
        expect(res.status).toBe(202);
      }
    });

    it('answer 400 at `since` to a redeliver that starts after 9999', async () => {
      const res = await app.call('POST', '/v1/subscriptions/sub_00000000000000000000000000000000/redeliver', {
        body: { since: '9999-12-31T23:59:59-23:59' },
      });
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([{ path: 'since', message: expect.any(String) }]);
    });
  });
});
