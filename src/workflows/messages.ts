/**
 * Every signal, query and update of Hookline's workflows, with their payload types. The API and the
 * workflows both import this module (STYLE 3), so the two sides cannot drift apart.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { HooklineEvent, SigningSecret, Subscription, SubscriptionStatus } from '../domain/types';

// ---- Subscriber workflow ----

/** What a subscriber workflow is started with, and what continue-as-new carries. */
export interface SubscriberInput {
  subscription: Subscription;
  secrets: SigningSecret[];
  limits: BacklogLimits;
  /** The handshake to run first, when the subscription is pending_validation. */
  validation?: Omit<ValidationInput, 'subscriptionId' | 'url'>;
  /** Carried by continue-as-new; absent on the first run. */
  state?: import('./state').QueueState;
}

export interface BacklogLimits {
  /** Most events held queued (pending + in flight). */
  maxEvents: number;
  /** Most bytes of serialised events held queued; keeps continue-as-new input far under 2 MB. */
  maxBytes: number;
}

export interface EnqueueRequest {
  events: HooklineEvent[];
}
export interface EnqueueResult {
  /** Ids queued by this call, in order. */
  queued: string[];
  /** Ids already seen within the dedupe window: not queued again. */
  duplicates: string[];
}

/**
 * Queues events in order and answers once they are in the workflow's state (durable in its history).
 * Its validator refuses (nothing is written) when the backlog would overflow: the publisher's 503.
 * Needs a running worker: while none polls, the call waits.
 */
export const enqueueUpdate = defineUpdate<EnqueueResult, [EnqueueRequest]>('enqueue');

/**
 * Queues events without an answer: durable as soon as the server accepts the signal, with or without a
 * worker. The backlog cap is not enforced here (a signal cannot be refused, and nothing accepted is
 * dropped); producers that need refusal use `enqueueUpdate`. Repeated ids are dropped as always, so
 * sending the same events by update and by signal queues them once.
 */
export const eventsSignal = defineSignal<[EnqueueRequest]>('events');

/** Changes of a subscription's settings (the API's PATCH), checked against `version` when given. */
export interface ConfigPatch {
  expectedVersion?: number;
  changes: Partial<
    Pick<
      Subscription,
      | 'url'
      | 'eventTypes'
      | 'subject'
      | 'categories'
      | 'labels'
      | 'format'
      | 'maxBatchSize'
      | 'headers'
      | 'rateLimitPerSecond'
      | 'description'
      | 'metadata'
    >
  >;
  /** RFC 3339, set by the caller (workflow time is not the API's time). */
  at: string;
}
export const updateConfigUpdate = defineUpdate<Subscription, [ConfigPatch]>('updateConfig');

export interface StatusChange {
  status: Extract<SubscriptionStatus, 'active' | 'paused'>;
  at: string;
}
/** Pause (deliveries stop, events keep queueing) or resume (also re-enables a disabled one). */
export const setStatusUpdate = defineUpdate<Subscription, [StatusChange]>('setStatus');

export const rotateSecretUpdate = defineUpdate<{ secret: string }, [{ secret: string; at: string }]>(
  'rotateSecret',
);

/** Marks a pending_validation subscription active (the validation handshake succeeded). */
export const activateUpdate = defineUpdate<Subscription, [{ at: string }]>('activate');

export interface RedeliverRequest {
  eventIds?: string[];
  /** RFC 3339: every dead letter enqueued at or after it. */
  since?: string;
  /** Events to send again although delivered (the API fetches them from their event records). */
  events?: HooklineEvent[];
}
export interface RedeliverResult {
  requeued: string[];
}
/** Re-queues dead letters (and given delivered events) at the end of the queue, in original order. */
export const redeliverUpdate = defineUpdate<RedeliverResult, [RedeliverRequest]>('redeliver');
/** The same as a signal, for operators in the Web UI: `{"eventIds": [...]}` or `{"since": "…"}`. */
export const redeliverSignal = defineSignal<[RedeliverRequest]>('redeliver');

/** Ends the workflow cleanly after the attempt in flight, if any (for operators: a signal). */
export const deleteSignal = defineSignal('delete');
/** The same, answering once the subscription counts as deleted (its queries refuse from then on). */
export const deleteUpdate = defineUpdate<void>('delete');

export const subscriptionQuery = defineQuery<Subscription>('subscription');
export const secretsQuery = defineQuery<SigningSecret[]>('secrets');
export const queueQuery = defineQuery<import('./state').QueueView>('queue');
export const deliveriesQuery = defineQuery<import('./state').DeliveryRecord[], [number?]>('deliveries');
export const entryStatusQuery = defineQuery<import('./state').EntryStatus | null, [string]>('entryStatus');
export const deadLettersQuery = defineQuery<import('./state').DeadLetter[]>('deadLetters');

// ---- Validation handshake (child workflow of a subscriber) ----

export interface ValidationInput {
  subscriptionId: string;
  url: string;
  /** Host of PUBLIC_BASE_URL, sent as WebHook-Request-Origin. */
  origin: string;
  /** `<PUBLIC_BASE_URL>/v1/validate/<subscription id>?code=<code>`. */
  callbackUrl: string;
  /** 32 alphanumerics, made by the API (randomness stays out of workflow code). */
  code: string;
}

/** How a handshake ended: granted by the OPTIONS answer, by the callback, or not within 5 minutes. */
export type ValidationResult = 'granted_sync' | 'granted_callback' | 'expired';

/** The callback route's confirmation. A wrong code is refused (validator) and changes nothing. */
export const confirmValidationUpdate = defineUpdate<{ status: 'granted' }, [{ code: string }]>(
  'confirmValidation',
);

// ---- Tenant workflow (`hookline-ingress-<tenant>`): the registry of subscriptions and the ingress ----

/** What the registry keeps of a subscription: enough to route events, enforce URL uniqueness and list. */
export interface RegistryEntry {
  id: string;
  url: string;
  eventTypes: string[];
  subject: string | null;
  categories: string[] | null;
  labels: Record<string, string> | null;
  status: SubscriptionStatus;
  createdAt: string;
}

export interface TenantInput {
  tenant: string;
  /** Most subscriptions of one tenant (the registry travels in continue-as-new input). */
  maxSubscriptions: number;
  /** False on a server without Hookline's search attributes (the time-skipping test server). */
  indexed?: boolean;
  /** Carried by continue-as-new. */
  entries?: RegistryEntry[];
  /** Published events not yet routed, carried by continue-as-new. */
  inbox?: unknown[][];
  version?: number;
}

export interface RegisterRequest {
  subscription: Subscription;
  secret: string;
  limits: BacklogLimits;
  /** Task queue of the subscriber workflow. */
  taskQueue: string;
  /** Present when the subscription must pass the validation handshake first. */
  validation?: Omit<ValidationInput, 'subscriptionId' | 'url'>;
}
/** Registers a subscription and starts its workflow, atomically: the validator refuses a taken URL. */
export const registerUpdate = defineUpdate<Subscription, [RegisterRequest]>('register');

/** Forgets a subscription (its workflow is told separately); frees its URL. Idempotent. */
export const unregisterUpdate = defineUpdate<{ removed: boolean }, [{ id: string }]>('unregister');
/** The same, sent by a subscriber whose validation expired. */
export const unregisterSignal = defineSignal<[{ id: string }]>('unregister');

/** Claims a new URL for a subscription (PATCH); refused when another subscription has it. */
export const changeUrlUpdate = defineUpdate<void, [{ id: string; url: string }]>('changeUrl');

/** A subscription's routing data or status changed (sent by the API and by subscriber workflows). */
export const entryChangedSignal =
  defineSignal<[{ id: string; changes: Partial<Omit<RegistryEntry, 'id'>> }]>('entryChanged');

export interface RoutingTable {
  /** Bumped on every change of the registry. */
  version: number;
  entries: RegistryEntry[];
}
export const routesQuery = defineQuery<RoutingTable>('routes');

export interface ListRequest {
  url?: string;
  eventType?: string;
  status?: SubscriptionStatus;
  limit: number;
  /** The last id of the previous page. */
  cursor?: string;
}
export const listQuery = defineQuery<{ ids: string[]; nextCursor: string | null }, [ListRequest]>('list');
export const lookupUrlQuery = defineQuery<string | null, [string]>('lookupUrl');

/** Temporal-native producers: `{"events": [...]}` with the REST event shape, routed like POST /v1/events. */
export const publishSignal = defineSignal<[{ events: unknown[] }]>('publish');

/** Ingress events the publish signal could not accept (invalid shape), newest last, bounded. */
export interface RejectedPublish {
  at: string;
  reason: string;
  events: number;
}
export const rejectedPublishesQuery = defineQuery<RejectedPublish[]>('rejectedPublishes');

// ---- Event records: idempotency and EventGet for 7 days (src/publish/records.ts) ----

export interface EventRecord {
  tenant: string;
  event: HooklineEvent;
  /** Subscriptions the event was queued to. */
  subscriptionIds: string[];
  /** RFC 3339. */
  publishedAt: string;
}

/** The events of one publish whose ids Hookline generated, in one record. */
export interface PublishRecord {
  tenant: string;
  /** The shared part of the generated ids. */
  key: string;
  /** RFC 3339. */
  publishedAt: string;
  events: { event: HooklineEvent; subscriptionIds: string[] }[];
}
