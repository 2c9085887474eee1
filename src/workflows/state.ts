/**
 * The subscriber's queue as plain JSON, and every rule that changes it. Pure: no Temporal, no I/O,
 * no clock (callers pass `now`, ms since the epoch), so continue-as-new can carry it and unit tests
 * can drive it. Arrays only: a Map would serialise to {} and empty itself across continue-as-new.
 */
import type { HooklineEvent } from '../domain/types';

/** Seconds, then ms: back-off starts at 1 s and doubles, at most 1 h apart. */
export const FIRST_RETRY_DELAY_MS = 1_000;
export const MAX_RETRY_DELAY_MS = 3_600_000;
/** A batch is retried until this long after its first attempt; then its events are dead letters. */
export const RETRY_WINDOW_MS = 7 * 24 * 3_600_000;
/** A Retry-After longer than this is cut to it (a receiver may not park us for weeks). */
export const MAX_RETRY_AFTER_MS = 24 * 3_600_000;
/** Repeated event ids are dropped for this long. */
export const DEDUPE_WINDOW_MS = 7 * 24 * 3_600_000;
/**
 * A dead letter is kept this long after it died (its `deadAt`), then purged: the API's "7-day limit".
 * Workflow time; the subscriber wakes for the next expiry, so an idle subscription purges on time too.
 */
export const DEAD_LETTER_RETENTION_MS = 7 * 24 * 3_600_000;

/**
 * Bounds on what the state remembers besides the queue, so continue-as-new input stays far under
 * Temporal's 2 MB payload limit. Budget, serialised: seen ≈ 4,000 × 32 B = 128 KB; recent ≈ 30 × (100
 * ids × 20 B) = 60 KB; delivered ≈ 300 × 170 B = 51 KB; dead ≤ 128 KB; the queue ≤ maxBytes (≤ 1 MiB,
 * overhead included). Worst case ≈ 1.4 MB; with the default backlog (384 KiB) ≈ 0.75 MB.
 */
export const CAPS = {
  /** Remembered event-id hashes. */
  seen: 4_000,
  /** Delivery attempts kept for the deliveries log. */
  recent: 30,
  /** Delivered entries kept for entry-status lookups. */
  delivered: 300,
  /** Dead letters kept; the oldest beyond it are evicted and counted. */
  deadEvents: 500,
  deadBytes: 128 * 1024,
} as const;

/** Bytes a queue entry adds to the serialised state besides its event (enqueuedAt, counters, keys). */
export const ENTRY_OVERHEAD_BYTES = 96;
/** Largest backlog (events + overhead) the budget above allows. */
export const MAX_BACKLOG_BYTES_LIMIT = 1024 * 1024;

export interface QueueEntry {
  event: HooklineEvent;
  /** RFC 3339. */
  enqueuedAt: string;
  /** UTF-8 bytes of the serialised event. */
  bytes: number;
  /** Attempts of earlier batches that carried this entry (non-zero after a redelivery). */
  attempts: number;
}

export interface InFlight {
  msgId: string;
  entries: QueueEntry[];
  /** ms since the epoch; the retry window starts here. Null until the first attempt. */
  firstAttemptAt: number | null;
  attempts: number;
  /** ms since the epoch: no attempt before it. */
  nextAttemptAt: number;
  lastStatusCode: number | null;
  lastError: string | null;
  lastAttemptAt: number | null;
}

export interface DeliveryRecord {
  msgId: string;
  eventIds: string[];
  attempt: number;
  statusCode: number | null;
  error: string | null;
  /** Error class: dns, refused, timeout, tls, status, forbidden, network, internal. */
  errorClass: string | null;
  durationMs: number;
  /** RFC 3339. */
  at: string;
}

export interface DeadLetter {
  event: HooklineEvent;
  enqueuedAt: string;
  msgId: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  /** RFC 3339. */
  deadAt: string;
}

interface DeliveredEntry {
  id: string;
  msgId: string;
  attempts: number;
  lastStatusCode: number | null;
  lastAttemptAt: string;
  deliveredAt: string;
}

export interface QueueState {
  pending: QueueEntry[];
  inFlight: InFlight | null;
  /** [hash of event id, expires at ms], oldest first. */
  seen: [string, number][];
  /** Newest last. */
  recent: DeliveryRecord[];
  delivered: DeliveredEntry[];
  dead: DeadLetter[];
  /** Dead letters dropped by the CAPS.dead* bounds (oldest first); counted, never silent. */
  deadEvicted: number;
  /** Bytes of pending + in-flight entries. */
  bytes: number;
  /** ms since the epoch of the last attempt: the per-second rate limit spaces attempts from it. */
  lastAttemptAt: number | null;
  counters: { delivered: number; dead: number; attempts: number };
}

export function initialState(): QueueState {
  return {
    pending: [],
    inFlight: null,
    seen: [],
    recent: [],
    delivered: [],
    dead: [],
    deadEvicted: 0,
    bytes: 0,
    lastAttemptAt: null,
    counters: { delivered: 0, dead: 0, attempts: 0 },
  };
}

/** UTF-8 length of a string, without TextEncoder (not in every sandbox). */
export function utf8Length(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      bytes += 4;
      i++; // the low surrogate of the pair
    } else bytes += 3;
  }
  return bytes;
}

/** Bytes an event takes in the queue: its serialised form plus the entry's bookkeeping. */
export function eventBytes(event: HooklineEvent): number {
  return utf8Length(JSON.stringify(event)) + ENTRY_OVERHEAD_BYTES;
}

/**
 * Math.imul, read once per module instance. Hazard: in the worker's sandbox every read of a global
 * (`Math`, `JSON`, `Date`) goes through the V8 context's global object, ~10x slower than in a plain
 * process; reading `Math` twice per character made idHash the worker's top cost (bench/state-cost.ts).
 */
const imul = Math.imul;

/**
 * Two 32-bit FNV-1a hashes of an event id (different offset bases), as 16 hex chars: 64 bits, enough to
 * dedupe thousands of ids without keeping whole ids. imul keeps it in fast 32-bit integer math.
 */
export function idHash(id: string): string {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    a = imul(a ^ c, 0x01000193);
    b = imul(b ^ c, 0x01000193);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}

/**
 * Index of `state.seen` by hash, kept beside the state (never serialised): rebuilt once per run, then
 * updated as ids are added and pruned, instead of rebuilt on every enqueue.
 */
const seenIndex = new WeakMap<QueueState, Set<string>>();

function seenSet(state: QueueState): Set<string> {
  let index = seenIndex.get(state);
  if (!index) {
    index = new Set(state.seen.map(([h]) => h));
    seenIndex.set(state, index);
  }
  return index;
}

function pruneSeen(state: QueueState, now: number): void {
  let drop = 0;
  while (drop < state.seen.length && state.seen[drop]![1] <= now) drop++;
  if (state.seen.length - drop > CAPS.seen) drop = state.seen.length - CAPS.seen;
  if (drop === 0) return;
  const index = seenSet(state);
  for (const [h] of state.seen.splice(0, drop)) index.delete(h);
}

export function queuedCount(state: QueueState): number {
  return state.pending.length + (state.inFlight?.entries.length ?? 0);
}

/** The events of `events` that are new: not seen in the dedupe window, and not repeated within the call. */
export function splitDuplicates(
  state: QueueState,
  events: HooklineEvent[],
): { fresh: HooklineEvent[]; duplicates: string[] } {
  const seen = seenSet(state);
  const inCall = new Set<string>();
  const fresh: HooklineEvent[] = [];
  const duplicates: string[] = [];
  for (const event of events) {
    const h = idHash(event.id);
    if (seen.has(h) || inCall.has(h)) duplicates.push(event.id);
    else {
      inCall.add(h);
      fresh.push(event);
    }
  }
  return { fresh, duplicates };
}

/** Why `events` cannot be queued now, or null when they fit the backlog limits. */
export function capacityError(
  state: QueueState,
  limits: { maxEvents: number; maxBytes: number },
  events: HooklineEvent[],
): string | null {
  const { fresh } = splitDuplicates(state, events);
  const count = queuedCount(state) + fresh.length;
  if (count > limits.maxEvents) return `backlog full: ${count} events would exceed ${limits.maxEvents}`;
  const bytes = state.bytes + fresh.reduce((sum, e) => sum + eventBytes(e), 0);
  if (bytes > limits.maxBytes) return `backlog full: ${bytes} bytes would exceed ${limits.maxBytes}`;
  return null;
}

/** Appends the fresh events in order and remembers their ids; repeated ids are reported, not queued. */
export function enqueue(
  state: QueueState,
  events: HooklineEvent[],
  now: number,
): { queued: string[]; duplicates: string[] } {
  pruneSeen(state, now);
  const { fresh, duplicates } = splitDuplicates(state, events);
  const enqueuedAt = new Date(now).toISOString();
  const index = seenSet(state);
  for (const event of fresh) {
    const bytes = eventBytes(event);
    state.pending.push({ event, enqueuedAt, bytes, attempts: 0 });
    state.bytes += bytes;
    const h = idHash(event.id);
    state.seen.push([h, now + DEDUPE_WINDOW_MS]);
    index.add(h);
  }
  pruneSeen(state, now);
  return { queued: fresh.map((e) => e.id), duplicates };
}

/** Moves the oldest `maxBatchSize` pending entries into flight, under `msgId`. One batch at a time. */
export function cutBatch(state: QueueState, maxBatchSize: number, msgId: string, now: number): InFlight {
  if (state.inFlight) throw new Error('a batch is already in flight');
  if (state.pending.length === 0) throw new Error('nothing to send');
  const entries = state.pending.splice(0, Math.max(1, maxBatchSize));
  state.inFlight = {
    msgId,
    entries,
    firstAttemptAt: null,
    attempts: 0,
    nextAttemptAt: now,
    lastStatusCode: null,
    lastError: null,
    lastAttemptAt: null,
  };
  return state.inFlight;
}

/** The earliest time the next attempt may start: its back-off, and the per-second rate limit. */
export function nextAttemptTime(state: QueueState, rateLimitPerSecond: number | null): number {
  const due = state.inFlight?.nextAttemptAt ?? 0;
  if (!rateLimitPerSecond || state.lastAttemptAt === null) return due;
  return Math.max(due, state.lastAttemptAt + Math.ceil(1000 / rateLimitPerSecond));
}

/** Delay after the `attempts`-th failure: 1 s, 2 s, 4 s … capped at 1 h; Retry-After wins when given. */
export function retryDelayMs(attempts: number, retryAfterMs: number | null): number {
  if (retryAfterMs !== null && retryAfterMs >= 0) {
    return Math.min(Math.max(retryAfterMs, FIRST_RETRY_DELAY_MS), MAX_RETRY_AFTER_MS);
  }
  const exp = Math.min(attempts - 1, 31);
  return Math.min(FIRST_RETRY_DELAY_MS * 2 ** exp, MAX_RETRY_DELAY_MS);
}

export interface AttemptOutcome {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  errorClass: string | null;
  durationMs: number;
  /** From Retry-After on 429/503. */
  retryAfterMs: number | null;
}

function trim<T>(list: T[], cap: number): void {
  if (list.length > cap) list.splice(0, list.length - cap);
}

/** Notes that an attempt of the in-flight batch starts at `now`. */
export function startAttempt(state: QueueState, now: number): InFlight {
  const batch = state.inFlight;
  if (!batch) throw new Error('no batch in flight');
  batch.attempts += 1;
  batch.firstAttemptAt ??= now;
  batch.lastAttemptAt = now;
  state.lastAttemptAt = now;
  state.counters.attempts += 1;
  return batch;
}

/**
 * Records the end of an attempt started at `startedAt`. A success clears the batch; a failure
 * schedules the next attempt, or, when it came at or after the end of the retry window, turns the
 * batch's events into dead letters. The next attempt never lies past the window's end: the last one
 * is made right at 7 days.
 */
export function finishAttempt(
  state: QueueState,
  outcome: AttemptOutcome,
  startedAt: number,
  now: number,
): 'delivered' | 'retry' | 'dead' {
  const batch = state.inFlight;
  if (!batch || batch.firstAttemptAt === null) throw new Error('no attempt in flight');
  const at = new Date(startedAt).toISOString();
  state.recent.push({
    msgId: batch.msgId,
    eventIds: batch.entries.map((e) => e.event.id),
    attempt: batch.attempts,
    statusCode: outcome.statusCode,
    error: outcome.error,
    errorClass: outcome.errorClass,
    durationMs: outcome.durationMs,
    at,
  });
  trim(state.recent, CAPS.recent);
  batch.lastStatusCode = outcome.statusCode;
  batch.lastError = outcome.error;

  if (outcome.ok) {
    const deliveredAt = new Date(now).toISOString();
    for (const entry of batch.entries) {
      state.delivered.push({
        id: entry.event.id,
        msgId: batch.msgId,
        attempts: entry.attempts + batch.attempts,
        lastStatusCode: outcome.statusCode,
        lastAttemptAt: at,
        deliveredAt,
      });
    }
    trim(state.delivered, CAPS.delivered);
    releaseInFlight(state);
    state.counters.delivered += batch.entries.length;
    return 'delivered';
  }

  const deadline = batch.firstAttemptAt + RETRY_WINDOW_MS;
  if (startedAt >= deadline) {
    deadLetter(state, now);
    return 'dead';
  }
  batch.nextAttemptAt = Math.min(now + retryDelayMs(batch.attempts, outcome.retryAfterMs), deadline);
  return 'retry';
}

function releaseInFlight(state: QueueState): void {
  const batch = state.inFlight;
  if (!batch) return;
  state.bytes -= batch.entries.reduce((sum, e) => sum + e.bytes, 0);
  state.inFlight = null;
}

function deadLetter(state: QueueState, now: number): void {
  const batch = state.inFlight!;
  const deadAt = new Date(now).toISOString();
  for (const entry of batch.entries) {
    state.dead.push({
      event: entry.event,
      enqueuedAt: entry.enqueuedAt,
      msgId: batch.msgId,
      attempts: entry.attempts + batch.attempts,
      lastStatusCode: batch.lastStatusCode,
      lastError: batch.lastError,
      deadAt,
    });
  }
  state.counters.dead += batch.entries.length;
  releaseInFlight(state);
  let deadBytes = state.dead.reduce((sum, d) => sum + eventBytes(d.event), 0);
  while (state.dead.length > CAPS.deadEvents || (deadBytes > CAPS.deadBytes && state.dead.length > 1)) {
    deadBytes -= eventBytes(state.dead.shift()!.event);
    state.deadEvicted += 1;
  }
}

/** Whether a dead letter is past its retention at `now` (ms since the epoch). */
function expired(d: DeadLetter, now: number): boolean {
  return Date.parse(d.deadAt) + DEAD_LETTER_RETENTION_MS <= now;
}

/**
 * Drops the dead letters that died DEAD_LETTER_RETENTION_MS or more before `now`, keeping the others in
 * order. Returns how many were dropped. Idempotent; the subscriber applies it on every loop turn, so
 * continue-as-new never carries an expired one.
 */
export function purgeExpiredDeadLetters(state: QueueState, now: number): number {
  const before = state.dead.length;
  if (before === 0) return 0;
  state.dead = state.dead.filter((d) => !expired(d, now));
  return before - state.dead.length;
}

/** When the oldest kept dead letter expires (ms since the epoch), or null when there is none. */
export function nextDeadLetterExpiry(state: QueueState): number | null {
  let next: number | null = null;
  for (const d of state.dead) {
    const at = Date.parse(d.deadAt) + DEAD_LETTER_RETENTION_MS;
    if (next === null || at < next) next = at;
  }
  return next;
}

/**
 * Puts dead letters (by id, or enqueued at or after `since`) back at the end of the queue in their
 * original order, followed by `events` (delivered ones sent again). Returns the ids queued. Expired
 * dead letters are purged first: they cannot be redelivered.
 */
export function requeue(
  state: QueueState,
  req: { eventIds?: string[]; since?: string; events?: HooklineEvent[] },
  now: number,
): string[] {
  purgeExpiredDeadLetters(state, now);
  const ids = req.eventIds ? new Set(req.eventIds) : null;
  const since = req.since ? Date.parse(req.since) : null;
  const chosen = state.dead.filter(
    (d) => (ids !== null && ids.has(d.event.id)) || (since !== null && Date.parse(d.enqueuedAt) >= since),
  );
  const enqueuedAt = new Date(now).toISOString();
  const requeued: string[] = [];
  for (const d of chosen) {
    const bytes = eventBytes(d.event);
    state.pending.push({ event: d.event, enqueuedAt: d.enqueuedAt, bytes, attempts: d.attempts });
    state.bytes += bytes;
    requeued.push(d.event.id);
  }
  if (chosen.length > 0) state.dead = state.dead.filter((d) => !chosen.includes(d));
  const queuedIds = new Set([
    ...state.pending.map((p) => p.event.id),
    ...(state.inFlight?.entries.map((e) => e.event.id) ?? []),
  ]);
  for (const event of req.events ?? []) {
    if (queuedIds.has(event.id)) continue;
    const bytes = eventBytes(event);
    state.pending.push({ event, enqueuedAt, bytes, attempts: 0 });
    state.bytes += bytes;
    queuedIds.add(event.id);
    requeued.push(event.id);
  }
  return requeued;
}

// ---- Views for queries ----

export interface QueueView {
  data: {
    eventId: string;
    type: string;
    enqueuedAt: string;
    status: 'pending' | 'delivering';
    attempts: number;
  }[];
  size: number;
  bytes: number;
}

export function queueView(state: QueueState): QueueView {
  const batch = state.inFlight;
  const delivering = (batch?.entries ?? []).map((e) => ({
    eventId: e.event.id,
    type: e.event.type,
    enqueuedAt: e.enqueuedAt,
    status: 'delivering' as const,
    attempts: e.attempts + (batch?.attempts ?? 0),
  }));
  const pending = state.pending.map((e) => ({
    eventId: e.event.id,
    type: e.event.type,
    enqueuedAt: e.enqueuedAt,
    status: 'pending' as const,
    attempts: e.attempts,
  }));
  const data = [...delivering, ...pending];
  return { data, size: data.length, bytes: state.bytes };
}

export interface EntryStatus {
  eventId: string;
  status: 'pending' | 'delivering' | 'delivered' | 'dead';
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  lastAttemptAt: string | null;
  deliveredAt: string | null;
}

/** The newest knowledge of one event id, or null when this subscriber does not remember it. */
export function entryStatus(state: QueueState, eventId: string): EntryStatus | null {
  const batch = state.inFlight;
  const flying = batch?.entries.find((e) => e.event.id === eventId);
  if (batch && flying) {
    return {
      eventId,
      status: 'delivering',
      attempts: flying.attempts + batch.attempts,
      lastStatusCode: batch.lastStatusCode,
      lastError: batch.lastError,
      lastAttemptAt: batch.lastAttemptAt === null ? null : new Date(batch.lastAttemptAt).toISOString(),
      deliveredAt: null,
    };
  }
  const pending = state.pending.find((e) => e.event.id === eventId);
  if (pending) {
    return {
      eventId,
      status: 'pending',
      attempts: pending.attempts,
      lastStatusCode: null,
      lastError: null,
      lastAttemptAt: null,
      deliveredAt: null,
    };
  }
  const dead = state.dead.findLast((d) => d.event.id === eventId);
  const delivered = state.delivered.findLast((d) => d.id === eventId);
  if (delivered && (!dead || delivered.deliveredAt >= dead.deadAt)) {
    return {
      eventId,
      status: 'delivered',
      attempts: delivered.attempts,
      lastStatusCode: delivered.lastStatusCode,
      lastError: null,
      lastAttemptAt: delivered.lastAttemptAt,
      deliveredAt: delivered.deliveredAt,
    };
  }
  if (dead) {
    return {
      eventId,
      status: 'dead',
      attempts: dead.attempts,
      lastStatusCode: dead.lastStatusCode,
      lastError: dead.lastError,
      lastAttemptAt: null,
      deliveredAt: null,
    };
  }
  return null;
}

/**
 * The subscriber at a glance, for the Web UI's "current details" (Markdown): status, backlog, dead
 * letters, the batch being retried and the last attempt with its status code.
 */
export function currentDetails(status: string, state: QueueState): string {
  const lines = [`**${status}** · ${queuedCount(state)} queued · ${state.dead.length} dead letters`];
  const batch = state.inFlight;
  if (batch && batch.attempts > 0) {
    const last = batch.lastStatusCode ?? batch.lastError ?? 'no answer yet';
    lines.push(
      `retrying ${batch.msgId} · ${batch.entries.length} events · ${batch.attempts} attempts · last: ${last} · ` +
        `next at ${new Date(batch.nextAttemptAt).toISOString()}`,
    );
  }
  const attempt = state.recent.at(-1);
  if (attempt) {
    const outcome = attempt.statusCode ?? attempt.errorClass ?? 'error';
    lines.push(
      `last attempt: ${attempt.msgId} · ${attempt.eventIds.length} events · attempt ${attempt.attempt} · ` +
        `${outcome} in ${attempt.durationMs} ms · ${attempt.at}`,
    );
  }
  return lines.join('\n\n');
}
