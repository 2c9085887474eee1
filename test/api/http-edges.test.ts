import { startTestApp, type TestApp } from '../support/app';

/** Edges of the HTTP layer found by fuzzing the API (test/faults/schemathesis.test.ts). */
describe('HTTP edges', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app.stop();
  });

  it('answers 405 with Allow to a method a documented path does not have', async () => {
    const events = await app.call('PUT', '/v1/events', { body: { type: 'x', data: {} } });
    expect(events.status).toBe(405);
    expect(events.headers.get('allow')).toBe('POST');
    expect(events.body.error.code).toBe('method_not_allowed');

    const sub = await app.call('PUT', '/v1/subscriptions/sub_00000000000000000000000000000000');
    expect(sub.status).toBe(405);
    expect(sub.headers.get('allow')).toBe('GET, DELETE, PATCH, HEAD');

    const health = await app.call('DELETE', '/healthz', { key: null });
    expect(health.status).toBe(405);
    expect(health.headers.get('allow')).toBe('GET, HEAD');
  });

  it('still checks the key first, and answers 404 to paths it does not document', async () => {
    expect((await app.call('PUT', '/v1/events', { key: null })).status).toBe(401);
    expect((await app.call('PUT', '/v1/nothing-here')).status).toBe(404);
    expect((await app.call('GET', '/v1/events/a/b/c')).status).toBe(404);
  });

  it('validates a long percent-encoded ?url= (400) instead of refusing the request line (431)', async () => {
    // 2,050 characters (zod counts code points), 24 KiB once percent-encoded: over Node's default 16 KiB.
    const url = `https://example.com/${'\u{1F600}'.repeat(2030)}`;
    const res = await app.call('GET', `/v1/subscriptions?url=${encodeURIComponent(url)}`);
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].path).toBe('url');
  });

  it('looks up a URL whose normalised form is too long to be registered: no match, not a 400', async () => {
    // 2,000 characters as given; percent-encoding makes the stored form far longer than 2,048.
    const url = `https://example.com/${'é'.repeat(1970)}`;
    const list = await app.call('GET', `/v1/subscriptions?url=${encodeURIComponent(url)}`);
    expect(list.status).toBe(200);
    expect(list.body.data).toEqual([]);
    const del = await app.call('DELETE', `/v1/subscriptions?url=${encodeURIComponent(url)}`);
    expect(del.status).toBe(404);
  });
});
