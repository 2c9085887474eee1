import type { HooklineEvent } from '../domain/types';
import type { GeneratedIds } from './generated-ids';

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

/** Applies the defaults: an `evt_…` id from `ids`, source `hookline/<tenant>`, time of publishing. */
export function normalizeEvent(
  input: EventInput,
  tenant: string,
  now: Date,
  ids: GeneratedIds,
): HooklineEvent {
  return {
    id: input.id ?? ids.newId(),
    type: input.type,
    source: input.source ?? `hookline/${tenant}`,
    subject: input.subject ?? null,
    category: input.category ?? null,
    labels: input.labels ?? {},
    time: input.time ? new Date(input.time).toISOString() : now.toISOString(),
    data: input.data ?? null,
  };
}
