/**
 * Events, stored once per publish whatever their fan-out. (tenant, idem_key) is unique: the event id
 * is the idempotency key for 7 days, after which the key is released (set to null) and the id may be
 * published again. EventGet finds an event by the same key.
 */
import type { Selectable } from 'kysely';
import type { HooklineEvent } from '../domain/types';
import type { Db, EventsTable } from './database';
import type { Sealer } from './sealing';

/** How long an event id stays an idempotency key, and an event stays readable: 7 days. */
export const IDEMPOTENCY_WINDOW_MS = 7 * 24 * 3_600_000;

export type EventRow = Selectable<EventsTable>;

/** Bytes an event takes: its JSON form as delivered in the raw format. */
export function eventBytes(event: HooklineEvent): number {
  return Buffer.byteLength(JSON.stringify(event), 'utf8');
}

export function eventColumns(tenant: string, event: HooklineEvent, sealer: Sealer, now: number) {
  return {
    tenant,
    event_id: event.id,
    idem_key: event.id,
    type: event.type,
    source: event.source,
    subject: event.subject,
    category: event.category,
    labels: JSON.stringify(event.labels),
    time: event.time,
    data: sealer.sealJson(event.data ?? null),
    bytes: eventBytes(event),
    published_at: now,
  };
}

/** The columns `toEvent` reads, of `events` joined as `ev` (spread them into a select). */
export const JOINED_EVENT_COLUMNS = [
  'ev.event_id',
  'ev.type',
  'ev.source',
  'ev.subject',
  'ev.category',
  'ev.labels',
  'ev.time',
  'ev.data',
] as const;

export function toEvent(
  row: Pick<EventRow, 'event_id' | 'type' | 'source' | 'subject' | 'category' | 'labels' | 'time' | 'data'>,
  sealer: Sealer,
): HooklineEvent {
  return {
    id: row.event_id,
    type: row.type,
    source: row.source,
    subject: row.subject,
    category: row.category,
    labels: JSON.parse(row.labels) as Record<string, string>,
    time: row.time,
    data: sealer.openJson<unknown>(row.data),
  };
}

export class EventRows {
  constructor(
    private readonly db: Db,
    private readonly sealer: Sealer,
  ) {}

  /** The event `eventId` of `tenant` published within the window, with its pk; null otherwise. */
  async get(
    tenant: string,
    eventId: string,
    now: number,
  ): Promise<{ pk: number; event: HooklineEvent } | null> {
    const row = await this.db
      .selectFrom('events')
      .selectAll()
      .where('tenant', '=', tenant)
      .where('idem_key', '=', eventId)
      .where('published_at', '>', now - IDEMPOTENCY_WINDOW_MS)
      .executeTakeFirst();
    return row ? { pk: row.pk, event: toEvent(row, this.sealer) } : null;
  }

  /** Subscriptions an event was queued to, with whether each still exists, in id order. */
  async subscriptionsOf(eventPk: number): Promise<{ id: string; deleted: boolean }[]> {
    const rows = await this.db
      .selectFrom('queue_entries as e')
      .leftJoin('queues as q', 'q.subscription_id', 'e.subscription_id')
      .select(['e.subscription_id as id', 'q.open as open'])
      .where('e.event_pk', '=', eventPk)
      .groupBy(['e.subscription_id', 'q.open'])
      .orderBy('e.subscription_id')
      .execute();
    return rows.map((r) => ({ id: r.id, deleted: r.open !== 1 }));
  }
}
