import { createMetrics } from '../../src/metrics';
import { startTestApp, KEYS, type TestApp } from '../support/app';
import { freePort } from '../support/global-setup';
import { TestReceiver } from '../support/receiver';
import { sampleValue, scrape, scrapeUntil, type Sample } from '../support/scrape';

const bodyIds = (body: string) => (JSON.parse(body) as { events: { id: string }[] }).events.map((e) => e.id);

/**
 * The real app and worker on the dev server, sharing one registry as `npm start` does; a loopback
 * receiver; every figure read back by scraping GET /metrics over HTTP.
 */
describe('GET /metrics on the running service', () => {
  let app: TestApp;
  let receiver: TestReceiver;
  let metricsUrl: string;
  beforeAll(async () => {
    app = await startTestApp({}, { metrics: createMetrics() });
    receiver = await TestReceiver.start();
    metricsUrl = `${app.url}/metrics`;
  });
  afterAll(async () => {
    await app.stop();
    await receiver.close();
  });

  let n = 0;
  async function subscribe(body: Record<string, unknown>, url = `${receiver.url}/${++n}`) {
    const res = await app.call('POST', '/v1/subscriptions', { body: { url, ...body } });
    expect(res.status).toBe(201);
    return { ...(res.body as { id: string; secret: string }), path: `/hooks/${n}` };
  }
  const at = (path: string) => receiver.requests.filter((r) => r.path === path);
  const v = (s: Sample[], name: string, labels: Record<string, string> = {}) =>
    sampleValue(s, name, labels) ?? 0;
  const attempts = (s: Sample[], outcome: string) => v(s, 'hookline_delivery_attempts_total', { outcome });

  it('after a delivery, a scrape shows the events published and delivered, the attempt and its duration', async () => {
    const before = await scrape(metricsUrl);
    const sub = await subscribe({ eventTypes: ['metric.*'] });
    const res = await app.call('POST', '/v1/events', {
      body: {
        events: [1, 2, 3].map((i) => ({
          id: `m-${i}`,
          type: 'metric.seen',
          data: { marker: 'payload-marker' },
        })),
      },
    });
    expect(res.status).toBe(202);
    await receiver.waitFor(() => at(sub.path).flatMap((r) => bodyIds(r.body)).length >= 3);
    const requests = at(sub.path).length;

    // The attempt is counted when its answer is read, just after the receiver logs the request.
    const s = await scrapeUntil(
      metricsUrl,
      (s) =>
        v(s, 'hookline_events_delivered_total') - v(before, 'hookline_events_delivered_total') >= 3 &&
        sampleValue(s, 'hookline_backlog_events', { subscription: sub.id }) === 0,
    );
    const tenant = app.tenants.acme;
    expect(
      v(s, 'hookline_events_published_total', { tenant }) -
        v(before, 'hookline_events_published_total', { tenant }),
    ).toBe(3);
    expect(v(s, 'hookline_events_delivered_total') - v(before, 'hookline_events_delivered_total')).toBe(3);
    expect(attempts(s, 'success') - attempts(before, 'success')).toBe(requests);
    const count = (x: Sample[]) => v(x, 'hookline_delivery_duration_seconds_count', { result: 'success' });
    expect(count(s) - count(before)).toBe(requests);
    const sum = (x: Sample[]) => v(x, 'hookline_delivery_duration_seconds_sum', { result: 'success' });
    expect(sum(s) - sum(before)).toBeGreaterThan(0);
    expect(v(s, 'hookline_process_cpu_user_seconds_total')).toBeGreaterThan(0);

    // Publishing the same ids again is a duplicate: not counted twice.
    const again = await app.call('POST', '/v1/events', {
      body: { events: [1, 2, 3].map((i) => ({ id: `m-${i}`, type: 'metric.seen', data: {} })) },
    });
    expect(again.status).toBe(202);
    const after = await scrape(metricsUrl);
    expect(v(after, 'hookline_events_published_total', { tenant })).toBe(
      v(s, 'hookline_events_published_total', { tenant }),
    );
  });

  it('counts events published through the ingress signal for their tenant', async () => {
    const tenant = app.tenants.globex;
    const before = v(await scrape(metricsUrl), 'hookline_events_published_total', { tenant });
    await app.client.workflow.getHandle(`hookline-ingress-${tenant}`).signal('publish', {
      events: [
        { id: 'sig-1', type: 'native.created', data: {} },
        { id: 'sig-2', type: 'native.created', data: {} },
      ],
    });
    const s = await scrapeUntil(
      metricsUrl,
      (s) => v(s, 'hookline_events_published_total', { tenant }) - before >= 2,
    );
    expect(v(s, 'hookline_events_published_total', { tenant }) - before).toBe(2);
  });

  it('a receiver answering 500 twice shows two status failures, then the success', async () => {
    const sub = await subscribe({ eventTypes: ['flaky.*'] });
    let answered = 0;
    receiver.respond((req) =>
      req.path === sub.path ? { status: answered++ < 2 ? 500 : 200 } : { status: 200 },
    );
    const before = await scrape(metricsUrl);
    expect((await app.call('POST', '/v1/events', { body: { type: 'flaky.x', data: {} } })).status).toBe(202);
    await receiver.waitFor(() => at(sub.path).length >= 3);

    const s = await scrapeUntil(metricsUrl, (s) => attempts(s, 'success') - attempts(before, 'success') >= 1);
    expect(attempts(s, 'status') - attempts(before, 'status')).toBe(2);
    expect(attempts(s, 'success') - attempts(before, 'success')).toBe(1);
    const failures = (x: Sample[]) => v(x, 'hookline_delivery_duration_seconds_count', { result: 'failure' });
    expect(failures(s) - failures(before)).toBe(2);
    receiver.respond(() => ({ status: 200 }));
  });

  it('an endpoint refusing connections shows refused attempts and a backlog, removed on delete', async () => {
    const closed = await freePort();
    const sub = await subscribe({ eventTypes: ['down.*'] }, `http://127.0.0.1:${closed}/hooks`);
    expect((await app.call('POST', '/v1/events', { body: { type: 'down.x', data: {} } })).status).toBe(202);
    const s = await scrapeUntil(
      metricsUrl,
      (s) =>
        attempts(s, 'refused') >= 1 &&
        sampleValue(s, 'hookline_backlog_events', { subscription: sub.id }) === 1,
    );
    expect(sampleValue(s, 'hookline_backlog_events', { subscription: sub.id })).toBe(1);

    expect((await app.call('DELETE', `/v1/subscriptions/${sub.id}`)).status).toBe(204);
    await scrapeUntil(
      metricsUrl,
      (s) => sampleValue(s, 'hookline_backlog_events', { subscription: sub.id }) === undefined,
    );
  });

  it('holds no secret, key, URL or payload, and needs no API key', async () => {
    const sub = await subscribe({ eventTypes: ['never.*'], headers: { 'x-static': 'static-header-value' } });
    const res = await fetch(metricsUrl);
    expect(res.status).toBe(200);
    const text = await res.text();
    for (const secret of [
      sub.secret,
      KEYS.acme,
      KEYS.globex,
      'payload-marker',
      'static-header-value',
      '127.0.0.1',
    ]) {
      expect(text).not.toContain(secret);
    }
  });
});
