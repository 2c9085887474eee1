import type { HooklineEvent } from '../../src/domain/types';
import {
  currentDetails,
  cutBatch,
  DEAD_LETTER_RETENTION_MS,
  enqueue,
  entryStatus,
  finishAttempt,
  initialState,
  nextDeadLetterExpiry,
  purgeExpiredDeadLetters,
  requeue,
  RETRY_WINDOW_MS,
  startAttempt,
  type AttemptOutcome,
  type QueueState,
} from '../../src/workflows/state';

const T0 = Date.parse('2026-11-23T00:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const event = (id: string): HooklineEvent => ({
  id,
  type: 'order.created',
  source: 'test',
  subject: null,
  category: null,
  labels: {},
  time: '2026-11-23T00:00:00.000Z',
  data: { id },
});
const fail503: AttemptOutcome = {
  ok: false,
  statusCode: 503,
  error: 'HTTP 503',
  errorClass: 'status',
  durationMs: 4,
  retryAfterMs: null,
};

/** Queues `ids` as one batch whose retry window is over, and fails it once more at `deadAt`: dead letters. */
function killBatch(s: QueueState, ids: string[], msgId: string, deadAt: number): void {
  enqueue(s, ids.map(event), deadAt - RETRY_WINDOW_MS);
  cutBatch(s, ids.length, msgId, deadAt - RETRY_WINDOW_MS);
  startAttempt(s, deadAt);
  s.inFlight!.firstAttemptAt = deadAt - RETRY_WINDOW_MS;
  expect(finishAttempt(s, fail503, deadAt, deadAt)).toBe('dead');
}

describe('dead letters are kept seven days, then purged', () => {
  it('keeps a dead letter until 7 days after it died, and drops it at 7 days exactly', () => {
    expect(DEAD_LETTER_RETENTION_MS).toBe(7 * DAY);
    const s = initialState();
    killBatch(s, ['a', 'b'], 'msg_1', T0);
    expect(purgeExpiredDeadLetters(s, T0 + 7 * DAY - 1)).toBe(0);
    expect(s.dead.map((d) => d.event.id)).toEqual(['a', 'b']);
    expect(purgeExpiredDeadLetters(s, T0 + 7 * DAY)).toBe(2);
    expect(s.dead).toEqual([]);
    expect(entryStatus(s, 'a')).toBeNull();
  });

  it('purges only the expired ones, keeping the rest in order, and is idempotent', () => {
    const s = initialState();
    killBatch(s, ['old-1', 'old-2'], 'msg_1', T0);
    killBatch(s, ['new-1'], 'msg_2', T0 + 2 * DAY);
    const now = T0 + 8 * DAY;
    expect(purgeExpiredDeadLetters(s, now)).toBe(2);
    expect(purgeExpiredDeadLetters(s, now)).toBe(0);
    expect(s.dead.map((d) => d.event.id)).toEqual(['new-1']);
    // Counters are history, not retention: they still count every event that died.
    expect(s.counters.dead).toBe(3);
  });

  it('tells when the oldest kept dead letter expires, or null when there is none', () => {
    const s = initialState();
    expect(nextDeadLetterExpiry(s)).toBeNull();
    killBatch(s, ['a'], 'msg_1', T0 + HOUR);
    killBatch(s, ['b'], 'msg_2', T0 + 3 * HOUR);
    expect(nextDeadLetterExpiry(s)).toBe(T0 + HOUR + 7 * DAY);
    purgeExpiredDeadLetters(s, T0 + HOUR + 7 * DAY);
    expect(nextDeadLetterExpiry(s)).toBe(T0 + 3 * HOUR + 7 * DAY);
  });

  it('cannot redeliver an expired dead letter: requeue purges first', () => {
    const s = initialState();
    killBatch(s, ['gone'], 'msg_1', T0);
    killBatch(s, ['kept'], 'msg_2', T0 + 3 * DAY);
    const requeued = requeue(s, { eventIds: ['gone', 'kept'] }, T0 + 7 * DAY + 1);
    expect(requeued).toEqual(['kept']);
    expect(s.pending.map((p) => p.event.id)).toEqual(['kept']);
    expect(s.dead).toEqual([]);
  });
});

describe('the Web UI summary of a subscriber', () => {
  it('shows status, backlog, the batch being retried with its last status code, and the last attempt', () => {
    const s = initialState();
    enqueue(s, [event('a'), event('b'), event('c')], T0);
    expect(currentDetails('active', s)).toBe('**active** · 3 queued · 0 dead letters');
    cutBatch(s, 2, 'msg_1', T0);
    startAttempt(s, T0);
    finishAttempt(s, fail503, T0, T0 + 4);
    const text = currentDetails('active', s);
    expect(text).toContain(
      'retrying msg_1 · 2 events · 1 attempts · last: 503 · next at 2026-11-23T00:00:01.004Z',
    );
    expect(text).toContain(
      'last attempt: msg_1 · 2 events · attempt 1 · 503 in 4 ms · 2026-11-23T00:00:00.000Z',
    );
  });
});
