/**
 * The rules of a subscriber workflow, pure: what to do next, and how each activity's result changes
 * its progress. No Temporal, no I/O, no clock (callers pass `now`, ms since the epoch), plain JSON
 * state (continue-as-new carries it; a Map would serialise to {}). The workflow function
 * (./subscriber.ts) only registers handlers, runs the step this answers, and feeds the result back.
 */
import type { SyncedProgress } from '../domain/progress';
import type { SubscriptionStatus } from '../domain/types';
import type {
  AttemptSummary,
  Batch,
  ProgressView,
  RedeliverRequest,
  SubscriberState,
  Wake,
} from './messages';
import { retryDelayMs, RETRY_WINDOW_MS } from './retry';

export type { SyncedProgress } from '../domain/progress';

/** Attempts remembered for the Web UI's `deliveries` query. */
export const RECENT_ATTEMPTS = 30;
/** Characters of an error message kept in workflow state. */
const MAX_ERROR_CHARS = 200;

/** What one delivery attempt came to, success or failure, as the activity reported it. */
export interface AttemptOutcome {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  errorClass: string | null;
  durationMs: number;
  retryAfterMs: number | null;
  /** The entries the attempt carried; null when it never got that far (a lost worker). */
  firstSeq: number | null;
  lastSeq: number | null;
  events: number | null;
  /** The queue after it, when the activity got to write it. */
  headSeq: number | null;
  doneSeq: number | null;
  /** 410 Gone: the subscription is now disabled. */
  gone: boolean;
}

export type Step =
  | { kind: 'remove' }
  | { kind: 'sync' }
  | { kind: 'redeliver'; request: RedeliverRequest }
  | { kind: 'handshake'; handshakeId: string }
  | { kind: 'deliver'; batch: Batch }
  | { kind: 'deadLetter'; batch: Batch }
  /** Wait until `until` (ms since the epoch; null: until a signal); `anySignal`: a wake ends it too. */
  | { kind: 'wait'; until: number | null; anySignal: boolean; summary: string };

export function initialState(): SubscriberState {
  return {
    status: 'active',
    maxBatchSize: 100,
    rateLimitPerSecond: null,
    doneSeq: 0,
    headSeq: 0,
    batch: null,
    lastAttemptAt: null,
    handshake: null,
    syncNeeded: true,
    redeliveries: [],
    deleteRequested: false,
    recent: [],
    counters: { delivered: 0, dead: 0, attempts: 0 },
  };
}

const bounded = (s: string | null) =>
  s !== null && s.length > MAX_ERROR_CHARS ? `${s.slice(0, MAX_ERROR_CHARS)}…` : s;

export class SubscriberProgress {
  /** True once the subscription is gone: the workflow ends. */
  ended = false;
  /** Bumped by every signal: a wait ends when it moved. */
  signals = 0;
  /** Bumped by signals that change what to do (not by plain wakes): they end a back-off wait too. */
  controls = 0;

  constructor(
    readonly subscriptionId: string,
    readonly state: SubscriberState,
  ) {}

  // ---- Signals ----

  onWake(wake: Wake): void {
    if (typeof wake?.headSeq === 'number' && wake.headSeq > this.state.headSeq)
      this.state.headSeq = wake.headSeq;
    if (wake?.changed) {
      this.state.syncNeeded = true;
      this.controls++;
    }
    this.signals++;
  }

  onRedeliver(request: RedeliverRequest): void {
    const req = request ?? {};
    // At most a handful waiting: an operator's signals, not a data path.
    if (this.state.redeliveries.length < 20) {
      this.state.redeliveries.push({
        ...(Array.isArray(req.eventIds) ? { eventIds: req.eventIds.slice(0, 1000).map(String) } : {}),
        ...(typeof req.since === 'string' ? { since: req.since } : {}),
      });
    }
    this.controls++;
    this.signals++;
  }

  onDelete(): void {
    this.state.deleteRequested = true;
    this.controls++;
    this.signals++;
  }

  // ---- What next ----

  /** `newMsgId`: a fresh `msg_…` for a batch cut now (randomness is the workflow's, not this module's). */
  next(now: number, newMsgId: () => string): Step {
    const s = this.state;
    if (s.deleteRequested) return { kind: 'remove' };
    if (s.syncNeeded) {
      // Cleared when the sync starts, not when it ends: a change that comes while it runs (after its
      // read, say a DELETE) asks for another one.
      s.syncNeeded = false;
      return { kind: 'sync' };
    }
    if (s.redeliveries.length > 0) return { kind: 'redeliver', request: s.redeliveries[0]! };
    if (s.status === 'pending_validation' && s.handshake && !s.handshake.running) {
      return { kind: 'handshake', handshakeId: s.handshake.id };
    }
    if (s.status !== 'active') {
      return { kind: 'wait', until: null, anySignal: true, summary: `${s.status}: waiting for a change` };
    }
    if (!s.batch && s.headSeq > s.doneSeq) s.batch = this.cut(now, newMsgId());
    const batch = s.batch;
    if (!batch) return { kind: 'wait', until: null, anySignal: true, summary: 'idle: waiting for events' };
    // Only a final failure (see `attempted`) puts the next attempt past the window: dead letters.
    if (batch.firstAttemptAt !== null && batch.nextAttemptAt > batch.firstAttemptAt + RETRY_WINDOW_MS) {
      return { kind: 'deadLetter', batch };
    }
    const due = this.dueAt(batch);
    if (due <= now) return { kind: 'deliver', batch };
    const summary =
      batch.attempts > 0
        ? `back-off: attempt ${batch.attempts + 1} of ${batch.msgId} after ${batch.lastStatusCode ?? 'error'}`
        : `rate limit: ${batch.msgId}`;
    return { kind: 'wait', until: due, anySignal: false, summary };
  }

  /** When the batch's next attempt may start: its back-off, and the per-second rate limit. */
  private dueAt(batch: Batch): number {
    const rate = this.state.rateLimitPerSecond;
    const last = this.state.lastAttemptAt;
    if (!rate || last === null) return batch.nextAttemptAt;
    return Math.max(batch.nextAttemptAt, last + Math.ceil(1000 / rate));
  }

  /** The next batch: entries after doneSeq, at most maxBatchSize of them, fixed from now on. */
  private cut(now: number, msgId: string): Batch {
    const s = this.state;
    return {
      msgId,
      afterSeq: s.doneSeq,
      maxSeq: Math.min(s.headSeq, s.doneSeq + Math.max(1, s.maxBatchSize)),
      lastSeq: null,
      events: null,
      firstAttemptAt: null,
      attempts: 0,
      nextAttemptAt: now,
      lastStatusCode: null,
      lastError: null,
    };
  }

  /** Whether continue-as-new may happen now: no handshake child of this run is running. */
  canContinueAsNew(): boolean {
    return !this.state.handshake?.running;
  }

  // ---- Results ----

  synced(p: SyncedProgress, now: number): void {
    const s = this.state;
    if (!p.exists || p.deleted) {
      this.ended = true;
      return;
    }
    s.status = p.status;
    s.maxBatchSize = p.maxBatchSize;
    s.rateLimitPerSecond = p.rateLimitPerSecond;
    s.doneSeq = p.doneSeq;
    s.headSeq = Math.max(s.headSeq, p.headSeq);
    if (s.batch && s.batch.afterSeq < s.doneSeq) s.batch = null; // finished meanwhile (a lost result)
    if (!s.batch && p.batch && p.batch.lastSeq > s.doneSeq) {
      // A new run (after Terminate, say) resumes the batch the store saw attempted: same webhook-id.
      s.batch = {
        msgId: p.batch.msgId,
        afterSeq: p.batch.firstSeq - 1,
        maxSeq: p.batch.lastSeq,
        lastSeq: p.batch.lastSeq,
        events: p.batch.lastSeq - p.batch.firstSeq + 1,
        firstAttemptAt: p.batch.firstAttemptAt,
        attempts: p.batch.attempts,
        nextAttemptAt: Math.max(now, p.batch.lastAttemptAt + retryDelayMs(p.batch.attempts, null)),
        lastStatusCode: p.batch.lastStatusCode,
        lastError: bounded(p.batch.lastError),
      };
    }
    if (p.status === 'pending_validation' && p.handshakeId) {
      if (s.handshake?.id !== p.handshakeId) s.handshake = { id: p.handshakeId, running: false };
    } else if (!s.handshake?.running) {
      s.handshake = null;
    }
  }

  handshakeStarted(handshakeId: string): void {
    if (this.state.handshake?.id === handshakeId) this.state.handshake.running = true;
  }

  /** A handshake child ended (its result was written to the store); read the outcome from there. */
  handshakeEnded(handshakeId: string): void {
    if (this.state.handshake?.id === handshakeId) this.state.handshake.running = false;
    this.state.syncNeeded = true;
    this.controls++;
  }

  /** Marks an attempt of the batch as started at `now`; answers its number (1-based). */
  startAttempt(now: number): number {
    const batch = this.state.batch!;
    batch.attempts += 1;
    batch.firstAttemptAt ??= now;
    this.state.lastAttemptAt = now;
    this.state.counters.attempts += 1;
    return batch.attempts;
  }

  /** The activity did not send (the store says the subscription is not active, or deleted). */
  attemptSkipped(status: SubscriptionStatus | 'deleted'): void {
    const batch = this.state.batch!;
    batch.attempts -= 1;
    if (batch.attempts === 0) batch.firstAttemptAt = null;
    this.state.counters.attempts -= 1;
    if (status === 'deleted') this.ended = true;
    else this.state.status = status;
    this.state.syncNeeded = true;
  }

  /** The batch turned out empty (finished meanwhile): drop it and read the store again. */
  batchVanished(): void {
    this.state.batch = null;
    this.state.syncNeeded = true;
  }

  /** One attempt of the batch, started at `startedAt`, ended at `now` with `o`. */
  attempted(o: AttemptOutcome, startedAt: number, now: number): void {
    const s = this.state;
    const batch = s.batch!;
    if (o.lastSeq !== null) {
      batch.lastSeq = o.lastSeq;
      batch.events = o.events;
    }
    this.remember(batch, o, startedAt);
    if (o.headSeq !== null) s.headSeq = Math.max(s.headSeq, o.headSeq);
    if (o.ok) {
      s.counters.delivered += batch.events ?? 0;
      s.doneSeq = o.doneSeq ?? batch.lastSeq ?? s.doneSeq;
      s.batch = null;
      return;
    }
    batch.lastStatusCode = o.statusCode;
    batch.lastError = bounded(o.error);
    if (o.gone) s.status = 'disabled';
    const deadline = batch.firstAttemptAt! + RETRY_WINDOW_MS;
    // The last attempt is made right at the end of the window; one failing at or after it is final.
    batch.nextAttemptAt =
      startedAt >= deadline
        ? deadline + 1
        : Math.min(now + retryDelayMs(batch.attempts, o.retryAfterMs), deadline);
  }

  deadLettered(after: { headSeq: number; doneSeq: number; count: number }): void {
    const s = this.state;
    s.counters.dead += after.count;
    s.doneSeq = Math.max(s.doneSeq, after.doneSeq);
    s.headSeq = Math.max(s.headSeq, after.headSeq);
    s.batch = null;
  }

  redelivered(after: { headSeq: number }): void {
    this.state.redeliveries.shift();
    this.state.headSeq = Math.max(this.state.headSeq, after.headSeq);
  }

  private remember(batch: Batch, o: AttemptOutcome, startedAt: number): void {
    const recent = this.state.recent;
    recent.push({
      msgId: batch.msgId,
      firstSeq: batch.afterSeq + 1,
      lastSeq: batch.lastSeq ?? batch.maxSeq,
      events: batch.events ?? 0,
      attempt: batch.attempts,
      statusCode: o.statusCode,
      error: bounded(o.error),
      errorClass: o.errorClass,
      durationMs: o.durationMs,
      at: new Date(startedAt).toISOString(),
    });
    if (recent.length > RECENT_ATTEMPTS) recent.splice(0, recent.length - RECENT_ATTEMPTS);
  }

  // ---- Views ----

  view(): ProgressView {
    const s = this.state;
    return {
      subscriptionId: this.subscriptionId,
      status: s.status,
      doneSeq: s.doneSeq,
      headSeq: s.headSeq,
      queued: s.headSeq - s.doneSeq,
      batch: s.batch,
      counters: s.counters,
    };
  }

  recentAttempts(limit = RECENT_ATTEMPTS): AttemptSummary[] {
    return this.state.recent.slice(-Math.max(0, limit)).reverse();
  }

  /** The Web UI's "current details" (Markdown): status, queue, the batch being retried, the last attempt. */
  details(): string {
    const s = this.state;
    const lines = [`**${s.status}** · ${s.headSeq - s.doneSeq} queued · ${s.counters.dead} dead letters`];
    const batch = s.batch;
    if (batch && batch.attempts > 0) {
      const last = batch.lastStatusCode ?? batch.lastError ?? 'no answer yet';
      lines.push(
        `retrying ${batch.msgId} · ${batch.events ?? '?'} events · ${batch.attempts} attempts · last: ${last} · ` +
          `next at ${new Date(batch.nextAttemptAt).toISOString()}`,
      );
    }
    const attempt = s.recent.at(-1);
    if (attempt) {
      lines.push(
        `last attempt: ${attempt.msgId} · ${attempt.events} events · attempt ${attempt.attempt} · ` +
          `${attempt.statusCode ?? attempt.errorClass ?? 'error'} in ${attempt.durationMs} ms · ${attempt.at}`,
      );
    }
    return lines.join('\n\n');
  }
}
