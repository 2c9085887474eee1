/**
 * Hookline's Prometheus metrics. One registry per process, made at start-up by `createMetrics` and
 * passed in (activities, workflow sinks, the API): no module-level default registry, so tests can make
 * their own and read exactly what they caused.
 *
 * Labels carry only bounded, non-secret values: a tenant slug (tenants come from API_KEYS), a
 * subscription id, an outcome from a fixed list. Never a URL, header, secret or payload.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Every metric name starts with this. */
export const METRIC_PREFIX = 'hookline_';

/**
 * Outcome of one delivery attempt: `success`, or the failure class of the deliveries log
 * (see `ErrorClass` in src/delivery/http.ts; `status` is an HTTP answer other than 2xx; `internal` is
 * anything else, such as the activity timing out). A value outside the list counts as `internal`, so
 * the label set stays fixed.
 */
export const ATTEMPT_OUTCOMES = [
  'success',
  'status',
  'dns',
  'refused',
  'timeout',
  'tls',
  'forbidden',
  'network',
  'internal',
] as const;
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];

/**
 * Upper bounds of the delivery duration buckets, in seconds (not ms). One attempt is at most the
 * HTTP client's 15 s deadline plus signing; the 30 s bucket catches the activity's own timeout.
 */
export const DELIVERY_DURATION_BUCKETS_S = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30,
] as const;

/** What the code that does the work records. Callers never see prom-client. */
export interface MetricsRecorder {
  /** `count` events accepted (duplicates excluded) for `tenant`, by the REST route or the ingress signal. */
  eventsPublished(tenant: string, count: number): void;
  /** One delivery attempt of a batch of `events` events that took `seconds` (wall clock, seconds). */
  deliveryAttempt(outcome: string, seconds: number, events: number): void;
  /** `count` events given up on at the end of the 7-day retry window. */
  deadLettered(count: number): void;
}

export interface Metrics extends MetricsRecorder {
  readonly registry: Registry;
  /** The Prometheus text exposition of every metric of the registry. */
  render(): Promise<string>;
  /** Content-Type of `render()`'s text. */
  readonly contentType: string;
  /**
   * Where `hookline_backlog_events` comes from: read at every scrape (the store knows every queue),
   * subscription id and queued events. Unset: the gauge stays empty.
   */
  observeBacklog(read: () => Promise<{ subscriptionId: string; events: number }[]>): void;
}

/** Records nothing: for workers and tests made without a registry. */
export const NO_METRICS: MetricsRecorder = {
  eventsPublished: () => undefined,
  deliveryAttempt: () => undefined,
  deadLettered: () => undefined,
};

export function outcomeLabel(outcome: string): AttemptOutcome {
  return (ATTEMPT_OUTCOMES as readonly string[]).includes(outcome) ? (outcome as AttemptOutcome) : 'internal';
}

export interface MetricsOptions {
  /**
   * Also export the Node process metrics (CPU, memory, event loop lag, GC), prefixed `hookline_`.
   * Default true. Hazard: each registry made with them adds its own event-loop and GC observers, so a
   * process should make one such registry, not one per test.
   */
  defaultMetrics?: boolean;
}

export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });

  /** A counter of this registry, named `hookline_<name>`. */
  const counter = <L extends string = never>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Counter<L>({ name: `${METRIC_PREFIX}${name}`, help, labelNames, registers: [registry] });
  const published = counter(
    'events_published_total',
    'Events accepted for delivery (POST /v1/events and the ingress publish signal), duplicates excluded.',
    ['tenant'],
  );
  const delivered = counter(
    'events_delivered_total',
    'Events in batches that an endpoint answered with a 2xx.',
  );
  const deadLettered = counter(
    'events_dead_lettered_total',
    'Events given up on after 7 days of failed attempts.',
  );
  const attempts = counter(
    'delivery_attempts_total',
    'Delivery attempts (one POST of one batch) by outcome: success or the failure class.',
    ['outcome'],
  );
  const duration = new Histogram({
    name: `${METRIC_PREFIX}delivery_duration_seconds`,
    help: 'Duration of one delivery attempt in seconds: formatting, signing, DNS and the HTTP exchange.',
    labelNames: ['result'] as const,
    buckets: [...DELIVERY_DURATION_BUCKETS_S],
    registers: [registry],
  });
  let readBacklog: (() => Promise<{ subscriptionId: string; events: number }[]>) | null = null;
  new Gauge({
    name: `${METRIC_PREFIX}backlog_events`,
    help: 'Events queued (pending and in flight) per subscription, read from the store at each scrape.',
    labelNames: ['subscription'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      if (!readBacklog) return;
      for (const q of await readBacklog()) this.set({ subscription: q.subscriptionId }, q.events);
    },
  });
  // Every outcome from zero, so rate() sees the first failure of a kind as an increase.
  for (const outcome of ATTEMPT_OUTCOMES) attempts.inc({ outcome }, 0);
  for (const result of ['success', 'failure']) duration.zero({ result });

  return {
    registry,
    contentType: registry.contentType,
    render: () => registry.metrics(),
    eventsPublished(tenant, count) {
      if (count > 0) published.inc({ tenant }, count);
    },
    deliveryAttempt(outcome, seconds, events) {
      const label = outcomeLabel(outcome);
      attempts.inc({ outcome: label });
      duration.observe({ result: label === 'success' ? 'success' : 'failure' }, Math.max(0, seconds));
      if (label === 'success' && events > 0) delivered.inc(events);
    },
    deadLettered(count) {
      if (count > 0) deadLettered.inc(count);
    },
    observeBacklog(read) {
      readBacklog = read;
    },
  };
}
