import { createDeliver } from '../../src/activities/deliver';
import { startMetricsServer } from '../../src/api/metrics-server';
import { ConfigError, loadConfig } from '../../src/config';
import { createHttpClient, type HttpClient } from '../../src/delivery/http';
import { createLogger } from '../../src/logger';
import {
  ATTEMPT_OUTCOMES,
  createMetrics,
  DELIVERY_DURATION_BUCKETS_S,
  outcomeLabel,
  type Metrics,
} from '../../src/metrics';
import { parseAllowedNetworks } from '../../src/net/ssrf';
import { freePort } from '../support/global-setup';
import { TestReceiver } from '../support/receiver';
import { parseExposition, sampleValue, scrape, type Sample } from '../support/scrape';
import { queuedBatch, openTestStore, type TestStore } from '../support/store';
import { makeEvents } from '../support/subscriber';

const logger = createLogger('silent');

async function samplesOf(metrics: Metrics): Promise<Sample[]> {
  return parseExposition(await metrics.render());
}

describe('the metrics registry', () => {
  it('starts every attempt outcome at zero and has no hidden default registry', async () => {
    const a = createMetrics({ defaultMetrics: false });
    const b = createMetrics({ defaultMetrics: false });
    a.deliveryAttempt('success', 0.2, 3);
    const samples = await samplesOf(b);
    for (const outcome of ATTEMPT_OUTCOMES) {
      expect(sampleValue(samples, 'hookline_delivery_attempts_total', { outcome })).toBe(0);
    }
    expect(sampleValue(samples, 'hookline_events_delivered_total')).toBe(0);
    expect(sampleValue(samples, 'hookline_events_dead_lettered_total')).toBe(0);
  });

  it('counts an attempt by outcome, times it in seconds, and counts events only when delivered', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.deliveryAttempt('success', 0.02, 3);
    m.deliveryAttempt('status', 0.3, 5);
    m.deliveryAttempt('refused', 0.001, 5);
    const s = await samplesOf(m);
    expect(sampleValue(s, 'hookline_delivery_attempts_total', { outcome: 'success' })).toBe(1);
    expect(sampleValue(s, 'hookline_delivery_attempts_total', { outcome: 'status' })).toBe(1);
    expect(sampleValue(s, 'hookline_delivery_attempts_total', { outcome: 'refused' })).toBe(1);
    expect(sampleValue(s, 'hookline_events_delivered_total')).toBe(3);
    expect(sampleValue(s, 'hookline_delivery_duration_seconds_count', { result: 'success' })).toBe(1);
    expect(sampleValue(s, 'hookline_delivery_duration_seconds_count', { result: 'failure' })).toBe(2);
    expect(sampleValue(s, 'hookline_delivery_duration_seconds_sum', { result: 'failure' })).toBeCloseTo(
      0.301,
    );
    // 0.02 s falls in the 0.025 s bucket, not the 0.01 s one: the unit is seconds.
    expect(
      sampleValue(s, 'hookline_delivery_duration_seconds_bucket', { result: 'success', le: '0.01' }),
    ).toBe(0);
    expect(
      sampleValue(s, 'hookline_delivery_duration_seconds_bucket', { result: 'success', le: '0.025' }),
    ).toBe(1);
    const les = s
      .filter((x) => x.name === 'hookline_delivery_duration_seconds_bucket' && x.labels.result === 'success')
      .map((x) => x.labels.le);
    expect(les).toEqual([...DELIVERY_DURATION_BUCKETS_S.map(String), '+Inf']);
  });

  it('keeps the outcome label set fixed: an unknown class counts as internal', async () => {
    expect(outcomeLabel('timeout')).toBe('timeout');
    expect(outcomeLabel('https://evil.example/?secret=1')).toBe('internal');
    const m = createMetrics({ defaultMetrics: false });
    m.deliveryAttempt('something-new', 1, 1);
    const s = await samplesOf(m);
    expect(sampleValue(s, 'hookline_delivery_attempts_total', { outcome: 'internal' })).toBe(1);
    expect(s.some((x) => x.labels.outcome === 'something-new')).toBe(false);
  });

  it('counts published events per tenant, and reads the backlog from its source at each scrape', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.eventsPublished('acme', 2);
    m.eventsPublished('acme', 0);
    m.eventsPublished('globex', 1);
    let s = await samplesOf(m);
    expect(sampleValue(s, 'hookline_events_published_total', { tenant: 'acme' })).toBe(2);
    expect(sampleValue(s, 'hookline_events_published_total', { tenant: 'globex' })).toBe(1);
    expect(s.some((x) => x.name === 'hookline_backlog_events')).toBe(false);
    let backlogs = [
      { subscriptionId: 'sub_a', events: 7 },
      { subscriptionId: 'sub_b', events: 1 },
    ];
    m.observeBacklog(() => Promise.resolve(backlogs));
    s = await samplesOf(m);
    expect(sampleValue(s, 'hookline_backlog_events', { subscription: 'sub_a' })).toBe(7);
    // A queue gone from the source is gone from the gauge at the next scrape.
    backlogs = [{ subscriptionId: 'sub_b', events: 4 }];
    s = await samplesOf(m);
    expect(sampleValue(s, 'hookline_backlog_events', { subscription: 'sub_a' })).toBeUndefined();
    expect(sampleValue(s, 'hookline_backlog_events', { subscription: 'sub_b' })).toBe(4);
  });

  it('exports the Node process metrics with the hookline_ prefix', async () => {
    const s = await samplesOf(createMetrics());
    expect(sampleValue(s, 'hookline_process_cpu_user_seconds_total')).toBeGreaterThanOrEqual(0);
    expect(sampleValue(s, 'hookline_nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
  });
});

describe('the delivery activity, measured', () => {
  let http: HttpClient;
  let receiver: TestReceiver;
  let store: TestStore;
  beforeAll(async () => {
    http = createHttpClient({ allowed: parseAllowedNetworks(['127.0.0.0/8']) });
    receiver = await TestReceiver.start();
    store = await openTestStore('sqlite');
  });
  afterAll(async () => {
    await http.close();
    await receiver.close();
    await store.dispose();
  });

  const deliverTo = async (url: string, metrics: Metrics) =>
    createDeliver({
      store,
      http,
      metrics,
      clock: () => new Date(),
      version: 'test',
      origin: 'hookline.test',
    })(await queuedBatch(store, url, makeEvents(2, 'm'), 'msg_metrics'));

  it('records success, an HTTP failure as status and a closed port as refused, and still throws', async () => {
    const m = createMetrics({ defaultMetrics: false });
    receiver.respond((_req, n) => ({ status: n === 0 ? 204 : 503 }));
    await expect(deliverTo(receiver.url, m)).resolves.toMatchObject({ statusCode: 204 });
    await expect(deliverTo(receiver.url, m)).rejects.toThrow('HTTP 503');
    const closed = await freePort();
    await expect(deliverTo(`http://127.0.0.1:${closed}/hooks`, m)).rejects.toThrow();
    const s = await samplesOf(m);
    expect(sampleValue(s, 'hookline_delivery_attempts_total', { outcome: 'success' })).toBe(1);
    expect(sampleValue(s, 'hookline_delivery_attempts_total', { outcome: 'status' })).toBe(1);
    expect(sampleValue(s, 'hookline_delivery_attempts_total', { outcome: 'refused' })).toBe(1);
    expect(sampleValue(s, 'hookline_events_delivered_total')).toBe(2);
    expect(sampleValue(s, 'hookline_delivery_duration_seconds_count', { result: 'failure' })).toBe(2);
  });
});

describe('the metrics-only listener (METRICS_PORT)', () => {
  const TOKEN = 'metrics-token-0123456789';

  it('serves /metrics openly without a token, and 404 elsewhere', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.eventsPublished('acme', 5);
    const server = await startMetricsServer({ metrics: m, token: null, port: 0, logger });
    try {
      const s = await scrape(`${server.url}/metrics`);
      expect(sampleValue(s, 'hookline_events_published_total', { tenant: 'acme' })).toBe(5);
      expect((await fetch(`${server.url}/v1/events`)).status).toBe(404);
    } finally {
      await server.stop();
    }
  });

  it('with a token, answers 401 without it or with a wrong one, and 200 with it', async () => {
    const m = createMetrics({ defaultMetrics: false });
    const server = await startMetricsServer({ metrics: m, token: TOKEN, port: 0, logger });
    try {
      const url = `${server.url}/metrics`;
      const none = await fetch(url);
      expect(none.status).toBe(401);
      expect(await none.json()).toMatchObject({ error: { code: 'unauthorized' } });
      expect((await fetch(url, { headers: { authorization: `Bearer ${TOKEN}x` } })).status).toBe(401);
      expect((await fetch(url, { headers: { authorization: TOKEN } })).status).toBe(401);
      const s = await scrape(url, { authorization: `Bearer ${TOKEN}` });
      expect(sampleValue(s, 'hookline_events_delivered_total')).toBe(0);
    } finally {
      await server.stop();
    }
  });
});

describe('metrics settings', () => {
  it('are off by default: open /metrics, no extra listener, no SDK core exporter', () => {
    expect(loadConfig({}).metrics).toEqual({ token: null, port: null, temporalBind: null });
  });

  it('read METRICS_TOKEN, METRICS_PORT and TEMPORAL_METRICS_BIND', () => {
    const config = loadConfig({
      METRICS_TOKEN: 'metrics-token-0123456789',
      METRICS_PORT: '9100',
      TEMPORAL_METRICS_BIND: '0.0.0.0:9464',
    });
    expect(config.metrics).toEqual({
      token: 'metrics-token-0123456789',
      port: 9100,
      temporalBind: '0.0.0.0:9464',
    });
  });

  it('refuse a short token and a bind address without a port', () => {
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(ConfigError);
    expect(() => loadConfig({ TEMPORAL_METRICS_BIND: '127.0.0.1' })).toThrow(/TEMPORAL_METRICS_BIND/);
    expect(() => loadConfig({ METRICS_PORT: '70000' })).toThrow(/METRICS_PORT/);
  });
});
