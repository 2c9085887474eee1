import {
  initialState,
  RECENT_ATTEMPTS,
  SubscriberProgress,
  type AttemptOutcome,
  type SyncedProgress,
} from '../../src/workflows/subscriber-progress';
import { retryDelayMs, RETRY_WINDOW_MS } from '../../src/workflows/retry';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
let ids = 0;
const newId = () => `msg_${String(++ids).padStart(32, '0')}`;

function synced(overrides: Partial<SyncedProgress> = {}): SyncedProgress {
  return {
    exists: true,
    deleted: false,
    status: 'active',
    maxBatchSize: 100,
    rateLimitPerSecond: null,
    handshakeId: null,
    headSeq: 0,
    doneSeq: 0,
    batch: null,
    ...overrides,
  };
}

function failure(overrides: Partial<AttemptOutcome> = {}): AttemptOutcome {
  return {
    ok: false,
    statusCode: 500,
    error: 'HTTP 500',
    errorClass: 'status',
    durationMs: 3,
    retryAfterMs: null,
    firstSeq: null,
    lastSeq: null,
    events: null,
    headSeq: null,
    doneSeq: null,
    gone: false,
    ...overrides,
  };
}

/** A subscriber that synced `sync` at time 0. */
function subscriber(sync: Partial<SyncedProgress> = {}) {
  const p = new SubscriberProgress('sub_x', initialState());
  expect(p.next(0, newId)).toEqual({ kind: 'sync' });
  p.synced(synced(sync), 0);
  return p;
}

describe('what a subscriber does next', () => {
  it('syncs again when a change comes while a sync runs (a DELETE after its read is not lost)', () => {
    const p = new SubscriberProgress('sub_x', initialState());
    expect(p.next(0, newId)).toEqual({ kind: 'sync' });
    p.onWake({ changed: true }); // arrives while the sync activity runs
    p.synced(synced(), 0); // what it read: still there
    expect(p.next(0, newId)).toEqual({ kind: 'sync' });
    p.synced(synced({ deleted: true }), 0);
    expect(p.ended).toBe(true);
  });

  it('reads the store first; then waits idle while nothing is queued', () => {
    const p = subscriber();
    expect(p.next(0, newId)).toMatchObject({ kind: 'wait', until: null, anySignal: true });
  });

  it('a wake with a new head cuts a batch of at most maxBatchSize, fixed for its retries', () => {
    const p = subscriber({ maxBatchSize: 10 });
    p.onWake({ headSeq: 25 });
    const step = p.next(0, newId);
    expect(step).toMatchObject({ kind: 'deliver', batch: { afterSeq: 0, maxSeq: 10, attempts: 0 } });
    const msgId = (step as { batch: { msgId: string } }).batch.msgId;
    p.startAttempt(0);
    p.attempted(failure({ firstSeq: 1, lastSeq: 7, events: 7 }), 0, 10);
    // The retry is the same batch: same webhook-id, the same bounds, the size cut it got the first time.
    const retry = p.next(2_000, newId);
    expect(retry).toMatchObject({
      kind: 'deliver',
      batch: { msgId, afterSeq: 0, maxSeq: 10, lastSeq: 7, attempts: 1 },
    });
    p.startAttempt(2_000);
    p.attempted(
      {
        ...failure(),
        ok: true,
        statusCode: 200,
        error: null,
        errorClass: null,
        firstSeq: 1,
        lastSeq: 7,
        events: 7,
        headSeq: 25,
        doneSeq: 7,
      },
      2_000,
      2_010,
    );
    // Then the next batch starts after what was delivered, under a new webhook-id.
    const next = p.next(2_010, newId);
    expect(next).toMatchObject({ kind: 'deliver', batch: { afterSeq: 7, maxSeq: 17 } });
    expect((next as { batch: { msgId: string } }).batch.msgId).not.toBe(msgId);
    expect(p.state.counters).toEqual({ delivered: 7, dead: 0, attempts: 2 });
  });

  it('backs off 1 s, 2 s, 4 s … at most 1 h, and a plain wake does not cut the wait short', () => {
    expect([1, 2, 3, 4, 12, 13, 40].map((n) => retryDelayMs(n, null))).toEqual([
      1000,
      2000,
      4000,
      8000,
      2048000,
      HOUR,
      HOUR,
    ]);
    expect(retryDelayMs(3, 10)).toBe(1000);
    expect(retryDelayMs(3, 30 * DAY)).toBe(24 * HOUR);
    const p = subscriber();
    p.onWake({ headSeq: 1 });
    p.next(0, newId);
    p.startAttempt(0);
    p.attempted(failure({ lastSeq: 1, events: 1 }), 0, 5);
    expect(p.next(5, newId)).toMatchObject({ kind: 'wait', until: 1005, anySignal: false });
    const controls = p.controls;
    p.onWake({ headSeq: 2 });
    expect(p.controls).toBe(controls);
    p.onWake({ changed: true });
    expect(p.controls).toBe(controls + 1);
    expect(p.next(6, newId)).toEqual({ kind: 'sync' });
  });

  it('honours Retry-After', () => {
    const p = subscriber();
    p.onWake({ headSeq: 1 });
    p.next(0, newId);
    p.startAttempt(0);
    p.attempted(failure({ statusCode: 503, retryAfterMs: 120_000 }), 0, 0);
    expect(p.next(0, newId)).toMatchObject({ kind: 'wait', until: 120_000 });
  });

  it('makes a last attempt right at seven days, then turns the batch into dead letters', () => {
    const p = subscriber();
    p.onWake({ headSeq: 3 });
    let now = 0;
    let attempts = 0;
    for (;;) {
      const step = p.next(now, newId);
      if (step.kind === 'deadLetter') break;
      if (step.kind === 'wait') {
        now = step.until!;
        continue;
      }
      expect(step.kind).toBe('deliver');
      p.startAttempt(now);
      attempts++;
      p.attempted(failure({ lastSeq: 3, events: 3 }), now, now + 10);
      expect(attempts).toBeLessThan(400);
    }
    // The last attempt started exactly at the end of the window.
    expect(now).toBe(RETRY_WINDOW_MS);
    expect(attempts).toBe(p.state.batch!.attempts);
    p.deadLettered({ headSeq: 3, doneSeq: 3, count: 3 });
    expect(p.state.batch).toBeNull();
    expect(p.state.counters.dead).toBe(3);
    expect(p.next(now, newId)).toMatchObject({ kind: 'wait', until: null });
  });

  it('spaces attempts by the per-second rate limit', () => {
    const p = subscriber({ rateLimitPerSecond: 4, maxBatchSize: 1 });
    p.onWake({ headSeq: 2 });
    p.next(1000, newId);
    p.startAttempt(1000);
    p.attempted(
      { ...failure(), ok: true, statusCode: 200, lastSeq: 1, events: 1, doneSeq: 1, headSeq: 2 },
      1000,
      1001,
    );
    expect(p.next(1001, newId)).toMatchObject({
      kind: 'wait',
      until: 1250,
      summary: expect.stringMatching(/^rate limit/),
    });
    expect(p.next(1250, newId)).toMatchObject({ kind: 'deliver' });
  });

  it('410 Gone: disabled, nothing sent, until a resume (a changed settings read) says active', () => {
    const p = subscriber();
    p.onWake({ headSeq: 1 });
    p.next(0, newId);
    p.startAttempt(0);
    p.attempted(failure({ statusCode: 410, gone: true }), 0, 1);
    expect(p.state.status).toBe('disabled');
    expect(p.next(100_000, newId)).toMatchObject({ kind: 'wait', until: null });
    p.onWake({ changed: true });
    expect(p.next(100_000, newId)).toEqual({ kind: 'sync' });
    p.synced(synced({ headSeq: 1 }), 100_000);
    expect(p.next(100_000, newId)).toMatchObject({ kind: 'deliver', batch: { attempts: 1 } });
  });

  it('an attempt the activity did not make (paused in the store) counts for nothing', () => {
    const p = subscriber();
    p.onWake({ headSeq: 1 });
    p.next(0, newId);
    p.startAttempt(0);
    p.attemptSkipped('paused');
    expect(p.state.batch).toMatchObject({ attempts: 0, firstAttemptAt: null });
    expect(p.state.counters.attempts).toBe(0);
    expect(p.next(0, newId)).toEqual({ kind: 'sync' });
  });

  it('a new run resumes the batch the store saw attempted, with its webhook-id and attempts', () => {
    const p = subscriber({
      headSeq: 12,
      doneSeq: 4,
      batch: {
        msgId: 'msg_old',
        firstSeq: 5,
        lastSeq: 9,
        attempts: 3,
        firstAttemptAt: 0,
        lastStatusCode: 503,
        lastError: 'HTTP 503',
        lastAttemptAt: 1000,
      },
    });
    expect(p.next(1000, newId)).toMatchObject({ kind: 'wait', until: 1000 + retryDelayMs(3, null) });
    expect(p.next(1000 + retryDelayMs(3, null), newId)).toMatchObject({
      kind: 'deliver',
      batch: { msgId: 'msg_old', afterSeq: 4, maxSeq: 9, lastSeq: 9, attempts: 3 },
    });
  });

  it('runs the handshake the store asks for, once, and reads the store when it ends', () => {
    const p = subscriber({ status: 'pending_validation', handshakeId: 'h1' });
    expect(p.next(0, newId)).toEqual({ kind: 'handshake', handshakeId: 'h1' });
    p.handshakeStarted('h1');
    expect(p.canContinueAsNew()).toBe(false);
    expect(p.next(0, newId)).toMatchObject({ kind: 'wait', until: null });
    p.handshakeEnded('h1');
    expect(p.canContinueAsNew()).toBe(true);
    expect(p.next(0, newId)).toEqual({ kind: 'sync' });
    // A new URL means a new handshake.
    p.synced(synced({ status: 'pending_validation', handshakeId: 'h2' }), 0);
    expect(p.next(0, newId)).toEqual({ kind: 'handshake', handshakeId: 'h2' });
  });

  it('ends when the store says the subscription is gone; a delete request removes it first', () => {
    const gone = subscriber();
    gone.synced(synced({ deleted: true }), 0);
    expect(gone.ended).toBe(true);
    const p = subscriber();
    p.onDelete();
    expect(p.next(0, newId)).toEqual({ kind: 'remove' });
  });

  it('keeps redeliveries asked for by signal, bounded, in order', () => {
    const p = subscriber();
    p.onRedeliver({ eventIds: ['a', 'b'] });
    p.onRedeliver({ since: '2026-12-01T00:00:00Z' });
    expect(p.next(0, newId)).toEqual({ kind: 'redeliver', request: { eventIds: ['a', 'b'] } });
    p.redelivered({ headSeq: 2 });
    expect(p.next(0, newId)).toEqual({ kind: 'redeliver', request: { since: '2026-12-01T00:00:00Z' } });
    for (let i = 0; i < 50; i++) p.onRedeliver({ eventIds: [`x${i}`] });
    expect(p.state.redeliveries.length).toBeLessThanOrEqual(20);
  });

  it('keeps its state small whatever the backlog: a few KB with the last attempts full of long errors', () => {
    const p = subscriber();
    p.onWake({ headSeq: 1_000_000_000 });
    for (let i = 0; i < 100; i++) {
      p.next(i * 10_000_000, newId);
      p.startAttempt(i * 10_000_000);
      p.attempted(
        failure({ error: 'x'.repeat(10_000), lastSeq: 100, events: 100 }),
        i * 10_000_000,
        i * 10_000_000 + 1,
      );
    }
    expect(p.state.recent).toHaveLength(RECENT_ATTEMPTS);
    expect(JSON.stringify(p.state).length).toBeLessThan(16 * 1024);
    expect(p.recentAttempts(5)).toHaveLength(5);
    expect(p.details()).toContain('retrying');
  });
});
