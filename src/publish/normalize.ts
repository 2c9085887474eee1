import { randomUUID } from 'node:crypto';
import type { HooklineEvent } from '../domain/types';

/** An event as producers send it (validated by the API's zod schema or the ingress activity). */
export interface EventInput {
  id?: string;
  type: string;
  source?: string;
  subject?: string;
  category?: string;
  labels?: Record<string, string>;
  time?: string;
  data: unknown;
}

export function newEventId(): string {
  return `evt_${randomUUID().replace(/-/g, '')}`;
}

/** Applies the defaults: a generated `evt_…` id, source `hookline/<tenant>`, time of publishing. */
export function normalizeEvent(input: EventInput, tenant: string, now: Date): HooklineEvent {
  return {
    id: input.id ?? newEventId(),
    type: input.type,
    source: input.source ?? `hookline/${tenant}`,
    subject: input.subject ?? null,
    category: input.category ?? null,
    labels: input.labels ?? {},
    time: input.time ? new Date(input.time).toISOString() : now.toISOString(),
    data: input.data ?? null,
  };
}
