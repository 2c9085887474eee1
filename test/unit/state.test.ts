import type { HooklineEvent } from '../../src/domain/types';
import {
  CAPS,
  capacityError,
  cutBatch,
  enqueue,
  entryStatus,
  finishAttempt,
  idHash,
  initialState,
  nextAttemptTime,
  queueView,
  requeue,
  retryDelayMs,
  RETRY_WINDOW_MS,
  startAttempt,
  utf8Length,
  MAX_BACKLOG_BYTES_LIMIT,
  type AttemptOutcome,
} from '../../src/workflows/state';

const T0 = Date.parse('2026-11-23T00:00:00Z');
const event = (id: string, data: unknown = { n: id }): HooklineEvent => ({
  id,
  type: 'order.created',
  source: 'test',
  subject: null,
  category: null,
  labels: {},
  time: '2026-11-23T00:00:00.000Z',
  data,
});
const fail = (statusCode: number | null = 500, retryAfterMs: number | null = null): AttemptOutcome => ({
  ok: false,
  statusCode,
  error: `HTTP ${statusCode}`,
  errorClass: 'status',
  durationMs: 3,
  retryAfterMs,
});
const ok: AttemptOutcome = {
  ok: true,
  statusCode: 204,
  error: null,
  errorClass: null,
  durationMs: 2,
  retryAfterMs: null,
};

describe('the subscriber queue', () => {
  it('keeps arrival order and drops repeated ids, within and across calls', () => {
    const s = initialState();
    expect(enqueue(s, [event('a'), event('b'), event('a')], T0)).toEqual({
      queued: ['a', 'b'],
      duplicates: ['a'],
    });
    expect(enqueue(s, [event('b'), event('c')], T0 + 1)).toEqual({ queued: ['c'], duplicates: ['b'] });
    expect(queueView(s).data.map((d) => d.eventId)).toEqual(['a', 'b', 'c']);
  });

  it('forgets ids after seven days, so the same id queues again', () => {
    const s = initialState();
    enqueue(s, [event('a')], T0);
    expect(enqueue(s, [event('a')], T0 + RETRY_WINDOW_MS - 1).duplicates).toEqual(['a']);
    expect(enqueue(s, [event('a')], T0 + RETRY_WINDOW_MS + 1).queued).toEqual(['a']);
  });

  it('cuts batches of at most maxBatchSize, oldest first, one at a time', () => {
    const s = initialState();
    enqueue(
      s,
      Array.from({ length: 250 }, (_, i) => event(`e${i}`)),
      T0,
    );
    const first = cutBatch(s, 100, 'msg_1', T0);
    expect(first.entries.map((e) => e.event.id)).toEqual(Array.from({ length: 100 }, (_, i) => `e${i}`));
    expect(() => cutBatch(s, 100, 'msg_2', T0)).toThrow(/already in flight/);
    startAttempt(s, T0);
    expect(finishAttempt(s, ok, T0, T0 + 5)).toBe('delivered');
    expect(cutBatch(s, 100, 'msg_2', T0).entries[0]!.event.id).toBe('e100');
  });

  it('refuses events beyond the count or byte limit, but not duplicates of queued ones', () => {
    const s = initialState();
    enqueue(s, [event('a'), event('b')], T0);
    expect(capacityError(s, { maxEvents: 3, maxBytes: 1e6 }, [event('c')])).toBeNull();
    expect(capacityError(s, { maxEvents: 3, maxBytes: 1e6 }, [event('c'), event('d')])).toMatch(
      /backlog full/,
    );
    expect(capacityError(s, { maxEvents: 2, maxBytes: 1e6 }, [event('a')])).toBeNull();
    expect(
      capacityError(s, { maxEvents: 100, maxBytes: s.bytes + 10 }, [event('c', 'x'.repeat(50))]),
    ).toMatch(/bytes/);
  });

  it('counts bytes as UTF-8', () => {
    expect(utf8Length('aé€😀')).toBe(1 + 2 + 3 + 4);
  });

  it('hashes event ids to the same values as every earlier version', () => {
    // The dedupe memory holds these hashes and continue-as-new carries it: a changed hash would let
    // every id seen before an upgrade through again.
    expect(idHash('evt_0123456789abcdef01234567_00')).toBe('5ab86d8c42966862');
    expect(idHash('order-42')).toBe('572446f432c15956');
    expect(idHash('')).toBe('811c9dc5050c5d1f');
    expect(idHash('ünïcødé-✓')).toBe('657992d82a412a16');
  });
});

describe('the retry schedule', () => {
  it('starts at 1 s, doubles, and is capped at 1 h', () => {
    const delays = Array.from({ length: 16 }, (_, i) => retryDelayMs(i + 1, null) / 1000);
    expect(delays).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 3600, 3600, 3600, 3600]);
  });

  it('honours Retry-After, at least 1 s and at most 24 h', () => {
    expect(retryDelayMs(1, 30_000)).toBe(30_000);
    expect(retryDelayMs(5, 0)).toBe(1_000);
    expect(retryDelayMs(5, 1e10)).toBe(24 * 3_600_000);
  });

  it('makes a last attempt right at seven days, then turns the batch into dead letters', () => {
    const s = initialState();
    enqueue(s, [event('a'), event('b')], T0);
    enqueue(s, [event('c')], T0);
    cutBatch(s, 2, 'msg_1', T0);
    let now = T0;
    let result: string = 'retry';
    let attempts = 0;
    while (result === 'retry') {
      now = s.inFlight!.nextAttemptAt;
      startAttempt(s, now);
      attempts++;
      result = finishAttempt(s, fail(503), now, now + 10);
    }
    expect(result).toBe('dead');
    expect(now).toBe(T0 + RETRY_WINDOW_MS);
    expect(s.dead.map((d) => d.event.id)).toEqual(['a', 'b']);
    expect(s.dead[0]).toMatchObject({ msgId: 'msg_1', attempts, lastStatusCode: 503 });
    expect(entryStatus(s, 'a')).toMatchObject({ status: 'dead', attempts });
    expect(queueView(s).data.map((d) => d.eventId)).toEqual(['c']);
    expect(s.bytes).toBe(s.pending[0]!.bytes);
  });

  it('spaces attempts by the per-second rate limit', () => {
    const s = initialState();
    enqueue(s, [event('a'), event('b')], T0);
    cutBatch(s, 1, 'msg_1', T0);
    startAttempt(s, T0);
    finishAttempt(s, ok, T0, T0 + 5);
    cutBatch(s, 1, 'msg_2', T0 + 5);
    expect(nextAttemptTime(s, 4)).toBe(T0 + 250);
    expect(nextAttemptTime(s, null)).toBe(T0 + 5);
  });
});

describe('entries, dead letters and redelivery', () => {
  it('reports pending, delivering and delivered with attempts and status codes', () => {
    const s = initialState();
    enqueue(s, [event('a'), event('b')], T0);
    cutBatch(s, 1, 'msg_1', T0);
    startAttempt(s, T0);
    finishAttempt(s, fail(500), T0, T0 + 1);
    expect(entryStatus(s, 'a')).toMatchObject({ status: 'delivering', attempts: 1, lastStatusCode: 500 });
    expect(entryStatus(s, 'b')).toMatchObject({ status: 'pending', attempts: 0 });
    startAttempt(s, T0 + 1000);
    finishAttempt(s, ok, T0 + 1000, T0 + 1001);
    expect(entryStatus(s, 'a')).toMatchObject({ status: 'delivered', attempts: 2, lastStatusCode: 204 });
    expect(entryStatus(s, 'zzz')).toBeNull();
  });

  it('re-queues dead letters at the end of the queue in their original order', () => {
    const s = initialState();
    enqueue(s, [event('a'), event('b'), event('c')], T0);
    cutBatch(s, 2, 'msg_1', T0);
    startAttempt(s, T0 + RETRY_WINDOW_MS);
    s.inFlight!.firstAttemptAt = T0;
    finishAttempt(s, fail(500), T0 + RETRY_WINDOW_MS, T0 + RETRY_WINDOW_MS);
    expect(s.dead.map((d) => d.event.id)).toEqual(['a', 'b']);
    expect(requeue(s, { eventIds: ['b', 'a'] }, T0 + RETRY_WINDOW_MS)).toEqual(['a', 'b']);
    expect(s.dead).toEqual([]);
    expect(queueView(s).data.map((d) => d.eventId)).toEqual(['c', 'a', 'b']);
    expect(queueView(s).data[1]!.attempts).toBe(1);
  });

  it('evicts the oldest dead letters beyond the cap and counts them', () => {
    const s = initialState();
    const n = CAPS.deadEvents + 5;
    enqueue(
      s,
      Array.from({ length: n }, (_, i) => event(`e${i}`, 1)),
      T0,
    );
    cutBatch(s, n, 'msg_1', T0);
    startAttempt(s, T0);
    s.inFlight!.firstAttemptAt = T0 - RETRY_WINDOW_MS;
    expect(finishAttempt(s, fail(500), T0, T0)).toBe('dead');
    expect(s.dead).toHaveLength(CAPS.deadEvents);
    expect(s.deadEvicted).toBe(5);
    expect(s.dead[0]!.event.id).toBe('e5');
  });
});

describe('the continue-as-new budget', () => {
  it('keeps a state filled to every bound well under the 2 MB payload limit', () => {
    const s = initialState();
    const limits = { maxEvents: 100_000, maxBytes: MAX_BACKLOG_BYTES_LIMIT };
    // Fill the dedupe window, the attempt log and the delivered log with batches of 100.
    for (let b = 0; s.seen.length < CAPS.seen || s.recent.length < CAPS.recent; b++) {
      enqueue(
        s,
        Array.from({ length: 100 }, (_, i) => event(`delivered-${b}-${i}-with-a-longish-producer-id`)),
        T0,
      );
      cutBatch(s, 100, `msg_${'f'.repeat(28)}${String(b).padStart(4, '0')}`, T0);
      startAttempt(s, T0);
      finishAttempt(s, ok, T0, T0);
    }
    // Dead letters up to their bound.
    enqueue(
      s,
      Array.from({ length: CAPS.deadEvents }, (_, i) => event(`dead-${i}`, 'x'.repeat(300))),
      T0,
    );
    cutBatch(s, CAPS.deadEvents, 'msg_dead', T0);
    startAttempt(s, T0);
    s.inFlight!.firstAttemptAt = T0 - RETRY_WINDOW_MS;
    finishAttempt(s, fail(500), T0, T0);
    // Then the backlog, until the cap refuses more.
    let i = 0;
    while (capacityError(s, limits, [event(`q-${i}`, { payload: 'y'.repeat(200) })]) === null) {
      enqueue(s, [event(`q-${i}`, { payload: 'y'.repeat(200) })], T0);
      i++;
    }
    const serialised = utf8Length(JSON.stringify(s));
    expect(s.bytes).toBeLessThanOrEqual(MAX_BACKLOG_BYTES_LIMIT);
    expect(serialised).toBeLessThan(1_600_000);
  });
});
