import { startTestApp, type TestApp } from '../support/app';

describe('API conventions', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app.stop();
  });

  it('answers 401 without a key, with a wrong key, and before reading the body', async () => {
    for (const key of [null, 'not-a-key-at-all-0000']) {
      const res = await app.call('POST', '/v1/events', {
        key,
        raw: '{not json',
        headers: { 'content-type': 'application/json' },
      });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: { code: 'unauthorized', message: expect.any(String), details: [] } });
    }
  });

  it('answers 415 to a body that is not JSON', async () => {
    const res = await app.call('POST', '/v1/events', {
      raw: 'type=x',
      headers: { 'content-type': 'text/plain' },
    });
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('unsupported_media_type');
  });

  it('answers 400 to malformed JSON, without a stack trace', async () => {
    const res = await app.call('POST', '/v1/events', {
      raw: '{"type": ',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.ts|node_modules/);
  });

  it('rejects unknown fields with 400 and their path', async () => {
    const res = await app.call('POST', '/v1/subscriptions', {
      body: { url: 'http://127.0.0.1:9/x', eventTypes: ['a'], colour: 'red' },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.details).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: 'colour' })]),
    );
  });

  it('gives the path of a bad value in details', async () => {
    const res = await app.call('POST', '/v1/subscriptions', {
      body: { url: 'http://127.0.0.1:9/x', eventTypes: ['ok', ''] },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: 'eventTypes.1' })]),
    );
  });

  it('answers 413 to a body over 1 MiB', async () => {
    const res = await app.call('POST', '/v1/events', {
      body: { type: 'big', data: 'x'.repeat(1024 * 1024 + 10) },
    });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
  });

  it('answers 413 to an event whose data is over 256 KiB, and stores nothing of that request', async () => {
    const res = await app.call('POST', '/v1/events', {
      body: {
        events: [
          { id: 'small-one', type: 'a', data: {} },
          { id: 'big-one', type: 'a', data: 'x'.repeat(256 * 1024 + 1) },
        ],
      },
    });
    expect(res.status).toBe(413);
    expect((await app.call('GET', '/v1/events/small-one')).status).toBe(404);
  });

  it('answers 404 with the error body for unknown routes and ids', async () => {
    expect((await app.call('GET', '/v1/nothing-here')).status).toBe(404);
    const res = await app.call('GET', '/v1/subscriptions/sub_00000000000000000000000000000000');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
  });

  it('serves the OpenAPI document without a key', async () => {
    const res = await app.call('GET', '/openapi.json', { key: null });
    expect(res.status).toBe(200);
    expect(res.body.openapi).toMatch(/^3\.1/);
    expect(Object.keys(res.body.paths)).toEqual(expect.arrayContaining(['/v1/subscriptions', '/v1/events']));
  });
});
