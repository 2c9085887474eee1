/**
 * Every signal, query and update of Hookline's workflows, with their payload types. The API and the
 * workflows both import this module (STYLE 3), so the two sides cannot drift apart. Payloads carry
 * ids, sequence numbers and counts only: event data and secrets stay in the store.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AttemptView, SubscriptionStatus } from '../domain/types';

// ---- Subscriber workflow (`hookline-sub-<subscription id>`) ----

/** A subscriber's progress, carried by continue-as-new (a few hundred bytes, whatever the backlog). */
export interface SubscriberState {
  /** Status as last read from the store; the store decides, this only schedules. */
  status: SubscriptionStatus;
  maxBatchSize: number;
  rateLimitPerSecond: number | null;
  /** Every entry at or below it is finished. */
  doneSeq: number;
  /** The highest sequence number known to exist (from wakes and activity results). */
  headSeq: number;
  batch: Batch | null;
  /** ms since the epoch of the last attempt: the rate limit spaces attempts from it. */
  lastAttemptAt: number | null;
  /** The handshake the store asks for, and whether this run's child is running it. */
  handshake: { id: string; running: boolean } | null;
  /** Settings must be read again before the next delivery (a `wake` with `changed`). */
  syncNeeded: boolean;
  /** Redeliveries asked for by the `redeliver` signal, not yet carried out. */
  redeliveries: RedeliverRequest[];
  deleteRequested: boolean;
  /** The last attempts, newest last, for the Web UI (ids and status codes only). */
  recent: AttemptSummary[];
  counters: { delivered: number; dead: number; attempts: number };
}

/** The batch in flight: its bounds are fixed at its cut, so every retry sends the same events. */
export interface Batch {
  /** The webhook-id: the same on every retry. */
  msgId: string;
  /** Entries after this sequence number... */
  afterSeq: number;
  /** ...up to this one (the activity may cut fewer, by size). */
  maxSeq: number;
  /** The last entry actually sent, once an attempt told us. */
  lastSeq: number | null;
  events: number | null;
  firstAttemptAt: number | null;
  attempts: number;
  /** ms since the epoch: no attempt before it. */
  nextAttemptAt: number;
  lastStatusCode: number | null;
  lastError: string | null;
}

/** An attempt in workflow state: its batch by sequence numbers; `error` bounded (200 characters). */
export interface AttemptSummary extends AttemptView {
  firstSeq: number;
  lastSeq: number;
  events: number;
}

export interface SubscriberInput {
  subscriptionId: string;
  tenant: string;
  /** Carried by continue-as-new; absent on a first run (which reads everything from the store). */
  state?: SubscriberState;
}

/**
 * New entries exist up to `headSeq` (an enqueue found the subscriber idle), and/or its settings
 * changed (`changed`: read them again). Sent with signal-with-start, so it also starts a subscriber
 * that is gone. Signals cannot be refused: this one never carries anything that must be checked.
 */
export interface Wake {
  headSeq?: number;
  changed?: boolean;
}
export const wakeSignal = defineSignal<[Wake]>('wake');

export interface RedeliverRequest {
  eventIds?: string[];
  /** RFC 3339: every dead letter first queued at or after it. */
  since?: string;
}
/**
 * For operators in the Web UI: `{"eventIds": [...]}` or `{"since": "…"}` re-queues those dead letters
 * (and delivered events named by id) at the end of the queue, in their original order. The REST
 * route does the same in the store and then wakes the subscriber.
 */
export const redeliverSignal = defineSignal<[RedeliverRequest]>('redeliver');

/** For operators: deletes the subscription (as DELETE does) and ends the workflow. */
export const deleteSignal = defineSignal('delete');

/** The subscriber at a glance: status, sequence numbers, the batch in flight, counters. */
export interface ProgressView {
  subscriptionId: string;
  status: SubscriptionStatus;
  doneSeq: number;
  headSeq: number;
  /** Entries known to wait (headSeq - doneSeq). */
  queued: number;
  batch: Batch | null;
  counters: SubscriberState['counters'];
}
export const progressQuery = defineQuery<ProgressView>('progress');
/** The last attempts, newest first (at most 30; the argument is how many). */
export const deliveriesQuery = defineQuery<AttemptSummary[], [number?]>('deliveries');

// ---- Handshake (`hookline-handshake-<subscription id>-<handshake id>`, a child of its subscriber) ----

export interface HandshakeInput {
  subscriptionId: string;
  handshakeId: string;
}

/** How a handshake ended: granted by the OPTIONS answer, by the callback, or not within 5 minutes. */
export type HandshakeResult = 'granted_sync' | 'granted_callback' | 'expired';

/**
 * The callback route confirmed (it checked the code against the store and activated there). An
 * update, so that the route's answer comes after the handshake has taken it.
 */
export const confirmHandshakeUpdate = defineUpdate<void>('confirm');

// ---- Ingress (`hookline-ingress-<tenant>`) ----

/** Temporal-native producers: `{"events": [...]}` with the REST event shape, published like POST /v1/events. */
export const publishSignal = defineSignal<[{ events: unknown[] }]>('publish');

/** Publish signals the ingress could not accept (invalid shape), newest last, bounded. */
export interface RejectedPublish {
  at: string;
  reason: string;
  events: number;
}
export const rejectedPublishesQuery = defineQuery<RejectedPublish[]>('rejectedPublishes');

export interface IngressInput {
  tenant: string;
  /** Published events not yet handed to the publish activity, carried by continue-as-new. */
  inbox?: unknown[][];
}
