/**
 * Plain-JSON domain types shared by the API, the activities and the workflows.
 * Pure module: no Node built-ins, safe to import from workflow code.
 */

/** An event as it is stored and delivered (after defaults were applied at publish time). */
export interface HooklineEvent {
  /** `evt_…` when generated, or the producer's own id (the idempotency key). */
  id: string;
  type: string;
  source: string;
  subject: string | null;
  category: string | null;
  labels: Record<string, string>;
  /** RFC 3339, UTC. */
  time: string;
  data: unknown;
}

export const FORMATS = ['raw', 'cloudevents', 'slack', 'teams', 'googlechat', 'event'] as const;
export type DeliveryFormat = (typeof FORMATS)[number];

export const SUBSCRIPTION_STATUSES = ['pending_validation', 'active', 'paused', 'disabled'] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

/** The routing part of a subscription: which events it takes. */
export interface SubscriptionFilter {
  /** Exact type, `prefix.*`, or `*`. At least one. */
  eventTypes: string[];
  /** Only events whose subject starts with this. */
  subject: string | null;
  /** Only events whose category is listed. */
  categories: string[] | null;
  /** Only events carrying all these labels. */
  labels: Record<string, string> | null;
}

/** A subscription as the API shows it (without its secret). */
export interface Subscription extends SubscriptionFilter {
  id: string;
  tenant: string;
  url: string;
  /** For people (at most 200 characters); null when not given. */
  name: string | null;
  format: DeliveryFormat;
  status: SubscriptionStatus;
  requireValidation: boolean;
  /** 1..100 events per POST. */
  maxBatchSize: number;
  headers: Record<string, string>;
  /** Delivery requests per second; null for no cap. */
  rateLimitPerSecond: number | null;
  description: string | null;
  metadata: Record<string, string>;
  /** Bumped on every change; `If-Match` compares against it. */
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** A signing secret; during a rotation the old one keeps signing until `expiresAt`. */
export interface SigningSecret {
  /** `whsec_` + base64 of 24..64 random bytes. */
  secret: string;
  /** RFC 3339; null for the current secret. */
  expiresAt: string | null;
}

/**
 * One delivery attempt (one POST of one batch) as operators are shown it: in the deliveries log
 * (GET …/attempts) and in the subscriber workflow's `deliveries` query.
 */
export interface AttemptView {
  /** The webhook-id: the same on every attempt of a batch. */
  msgId: string;
  /** 1 for a batch's first attempt. */
  attempt: number;
  statusCode: number | null;
  error: string | null;
  errorClass: string | null;
  durationMs: number;
  /** RFC 3339: when the attempt started. */
  at: string;
}
