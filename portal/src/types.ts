/** The shapes of the API answers the portal reads (see ../shared/API.md and GET /openapi.json). */

export type SubscriptionStatus = 'pending_validation' | 'active' | 'paused' | 'disabled';
export const FORMATS = ['raw', 'cloudevents', 'event', 'slack', 'teams', 'googlechat'] as const;
export type Format = (typeof FORMATS)[number];

export interface Subscription {
  id: string;
  url: string;
  name: string | null;
  eventTypes: string[];
  subject: string | null;
  categories: string[] | null;
  labels: Record<string, string> | null;
  format: Format;
  status: SubscriptionStatus;
  requireValidation: boolean;
  maxBatchSize: number;
  headers: Record<string, string>;
  rateLimitPerSecond: number | null;
  description: string | null;
  metadata: Record<string, string>;
  version: number;
  createdAt: string;
  updatedAt: string;
  secret?: string;
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

export interface Delivery {
  msgId: string;
  eventIds: string[];
  attempt: number;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  at: string;
}

export interface QueueEntry {
  eventId: string;
  type: string;
  enqueuedAt: string;
  status: 'pending' | 'delivering';
  attempts: number;
}

export interface StoredEvent {
  id: string;
  type: string;
  source: string;
  subject: string | null;
  category: string | null;
  labels: Record<string, string>;
  time: string;
  data: unknown;
}

export interface DeadLetter {
  event: StoredEvent;
  enqueuedAt: string;
  msgId: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  deadAt: string;
}

export interface EntryStatus {
  eventId: string;
  subscriptionId: string;
  status: 'pending' | 'delivering' | 'delivered' | 'dead';
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  lastAttemptAt: string | null;
  deliveredAt: string | null;
}

export interface EventType {
  name: string;
  description: string | null;
  schema: unknown;
  archived: boolean;
}

export interface Usage {
  period: string;
  events: number;
  eventsPerMonth: number | null;
  resetsAt: string;
}
