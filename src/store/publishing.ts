/**
 * Publishing, in one transaction for a group of requests (group commit: the publisher hands over
 * every request that arrived while the previous transaction ran). Per request: idempotency by the
 * unique (tenant, idem_key) index, the event once, one queue entry per matching subscription under
 * its queue row's lock, and the backlog limits; a request that would overflow a backlog writes
 * nothing and gets BacklogFullError, without failing the others of its group.
 *
 * Tenants (#16): after the queues, each tenant's row is locked (lock order: subscription row → queue
 * row → tenants row), which serialises the publishes of one tenant across processes. Under it: the
 * tenant is live (else TenantGoneError), its events' `data` match their types' schemas as of this
 * transaction (else EventDataInvalidError), and its accepted, non-duplicate events fit its monthly
 * cap (else QuotaExceededError). Each refusal is of the whole request, and writes nothing of it.
 */
import { matchesFilter } from '../domain/matching';
import type { HooklineEvent } from '../domain/types';
import type { Db, Dialect, QueueEntriesTable } from './database';
import type { Catalog } from './event-types';
import { BacklogFullError, EventDataInvalidError, QuotaExceededError, TenantGoneError } from './errors';
import { eventBytes, eventColumns, IDEMPOTENCY_WINDOW_MS } from './events';
import {
  appendEntries,
  BACKLOG_RETRY_AFTER_SECONDS,
  CHUNK,
  lockQueues,
  overLimit,
  saveHeads,
  type BacklogLimits,
  type LockedQueue,
  type Wake,
} from './enqueue';
import type { Sealer } from './sealing';
import type { RoutingEntry, RoutingTable } from './subscriptions';
import { capOf, lockTenants, NO_TENANT_DEFAULTS, routingVersion, type TenantDefaults } from './tenants';
import { addUsage, periodOf, secondsUntilNextPeriod, usedEvents } from './usage';

export interface PublishRequest {
  tenant: string;
  /** Normalised events in publish order; an id repeated within the request counts once. */
  events: HooklineEvent[];
  /** True when the events came as `{"events": [...]}`: a 400 then names `events.<i>.data…`. */
  batch?: boolean;
}

export interface PublishOutcome {
  id: string;
  duplicate: boolean;
  /** Subscriptions that durably queued the event (empty for a duplicate). */
  subscriptions: string[];
}

export type PublishRefusal = BacklogFullError | QuotaExceededError | EventDataInvalidError | TenantGoneError;

export type PublishResult = { outcomes: PublishOutcome[] } | { error: PublishRefusal };

/** Routing tables by tenant; loads a tenant's table when its version in the store moved. */
export interface RoutingSource {
  table(db: Db, tenant: string, version: number): Promise<RoutingTable>;
}

/** Event-type catalogs by tenant; loads a tenant's when its catalog version in the store moved. */
export interface CatalogSource {
  catalog(db: Db, tenant: string, version: number): Promise<Catalog>;
}

/**
 * One key per (tenant, event id), unambiguous by construction: a tenant is a slug, which never holds
 * the NUL that separates the two.
 */
function keyOf(tenant: string, eventId: string): string {
  return `${tenant}\u0000${eventId}`;
}

interface Planned {
  tenant: string;
  event: HooklineEvent;
  subscriptions: string[];
}

export async function publishGroup(
  db: Db,
  dialect: Dialect,
  sealer: Sealer,
  routing: RoutingSource,
  catalogSource: CatalogSource,
  requests: PublishRequest[],
  limits: BacklogLimits,
  now: number,
  defaults: TenantDefaults = NO_TENANT_DEFAULTS,
): Promise<{ results: PublishResult[]; wakes: Wake[] }> {
  return db.transaction().execute(async (trx) => {
    // Routing tables as of this transaction: a subscription committed before it is seen.
    const tables = new Map<string, RoutingEntry[]>();
    for (const tenant of new Set(requests.map((r) => r.tenant))) {
      tables.set(tenant, (await routing.table(trx, tenant, await routingVersion(trx, tenant))).entries);
    }
    const matching = (tenant: string, event: HooklineEvent) =>
      tables
        .get(tenant)!
        .filter((entry) => matchesFilter(entry, event))
        .map((entry) => entry.id);

    // Every queue this group may touch, locked at once in id order (no lock is taken after an event's).
    const candidates = new Set<string>();
    for (const r of requests)
      for (const e of r.events) for (const id of matching(r.tenant, e)) candidates.add(id);
    const queues = await lockQueues(trx, dialect, [...candidates]);

    // Then the tenants' rows (after every queue row: the store's lock order). What follows reads
    // what the tenant's previous publish committed: its usage and its idempotency keys.
    const tenants = await lockTenants(trx, dialect, [...tables.keys()], now);
    const period = periodOf(now);
    const used = new Map<string, number>();
    const catalogs = new Map<string, Catalog>();
    for (const [tenant, row] of tenants) {
      if (row.deleted_at !== null) continue;
      used.set(tenant, await usedEvents(trx, tenant, period));
      catalogs.set(tenant, await catalogSource.catalog(trx, tenant, row.catalog_version));
    }

    const known = await liveKeys(trx, requests, now);
    const claimed = new Set<string>();
    const adding = new Map<string, { events: number; bytes: number }>();
    const plans = requests.map((r): Planned[] | PublishRefusal => {
      const tenantRow = tenants.get(r.tenant)!;
      if (tenantRow.deleted_at !== null) return new TenantGoneError();
      const invalid = dataProblems(catalogs.get(r.tenant)!, r);
      if (invalid.length > 0) return new EventDataInvalidError(invalid);
      const planned: Planned[] = [];
      const inRequest = new Set<string>();
      const extra = new Map<string, { events: number; bytes: number }>();
      for (const event of r.events) {
        const key = keyOf(r.tenant, event.id);
        if (known.live.has(key) || claimed.has(key) || inRequest.has(key)) continue;
        inRequest.add(key);
        const subscriptions = matching(r.tenant, event).filter((id) => queues.has(id));
        const bytes = eventBytes(event);
        for (const id of subscriptions) {
          const add = extra.get(id) ?? { events: 0, bytes: 0 };
          add.events += 1;
          add.bytes += bytes;
          extra.set(id, add);
        }
        planned.push({ tenant: r.tenant, event, subscriptions });
      }
      const sum = (id: string) => {
        const before = adding.get(id) ?? { events: 0, bytes: 0 };
        const add = extra.get(id)!;
        return { events: before.events + add.events, bytes: before.bytes + add.bytes };
      };
      const cap = capOf(tenantRow, defaults);
      if (cap !== null && used.get(r.tenant)! + planned.length > cap) {
        return new QuotaExceededError(cap, secondsUntilNextPeriod(now));
      }
      const full = [...extra.keys()].filter((id) => {
        const total = sum(id);
        return overLimit(queues.get(id)!, total.events, total.bytes, limits) !== null;
      });
      if (full.length > 0) return new BacklogFullError(full.sort(), BACKLOG_RETRY_AFTER_SECONDS);
      for (const id of extra.keys()) adding.set(id, sum(id));
      for (const key of inRequest) claimed.add(key);
      used.set(r.tenant, used.get(r.tenant)! + planned.length);
      return planned;
    });

    // An expired key (older than 7 days, not yet purged) is released so the id can be used again.
    if (known.expired.length > 0) {
      await trx.updateTable('events').set({ idem_key: null }).where('pk', 'in', known.expired).execute();
    }
    const accepted = plans.filter((p): p is Planned[] => Array.isArray(p)).flat();
    const pks = await insertEvents(trx, sealer, accepted, now);

    const entries: QueueEntriesTable[] = [];
    const touched = new Map<string, LockedQueue>();
    for (const p of accepted) {
      const pk = pks.get(keyOf(p.tenant, p.event.id));
      if (pk === undefined) continue; // another process published this id meanwhile: a duplicate
      for (const id of p.subscriptions) {
        const queue = queues.get(id)!;
        queue.headSeq += 1;
        queue.backlogBytes += pk.bytes;
        touched.set(id, queue);
        entries.push({
          subscription_id: id,
          seq: queue.headSeq,
          event_pk: pk.pk,
          bytes: pk.bytes,
          attempts: 0,
          enqueued_at: now,
        });
      }
    }
    await appendEntries(trx, entries);
    // Each event stored here counts once, whatever its fan-out (the tenant's lock makes every one
    // planned a stored one: no other transaction of this tenant could insert its id meanwhile).
    const stored = new Map<string, number>();
    for (const key of pks.keys()) {
      const tenant = key.slice(0, key.indexOf('\u0000'));
      stored.set(tenant, (stored.get(tenant) ?? 0) + 1);
    }
    for (const [tenant, events] of [...stored].sort(([a], [b]) => (a < b ? -1 : 1))) {
      await addUsage(trx, tenant, period, events);
    }
    const wakes = await saveHeads(trx, dialect, [...touched.values()], now);

    // Outcomes in request order: the first copy of an id is the event, later copies are duplicates.
    const results = requests.map((req, i): PublishResult => {
      const plan = plans[i]!;
      if (!Array.isArray(plan)) return { error: plan };
      const byId = new Map(plan.map((p) => [p.event.id, p]));
      const seen = new Set<string>();
      const outcomes = req.events.map((event) => {
        const p = byId.get(event.id);
        const stored = p !== undefined && !seen.has(event.id) && pks.has(keyOf(req.tenant, event.id));
        seen.add(event.id);
        return { id: event.id, duplicate: !stored, subscriptions: stored ? p.subscriptions : [] };
      });
      return { outcomes };
    });
    return { results, wakes };
  });
}

/** Problems of the request's events' `data` against their types' schemas; empty when all match. */
function dataProblems(catalog: Catalog, r: PublishRequest): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  r.events.forEach((event, i) => {
    const check = catalog.check(event.type);
    if (check)
      problems.push(...check(event.data, r.batch || r.events.length > 1 ? `events.${i}.data` : 'data'));
  });
  return problems;
}

/** Keys of the requests' events that are live (within 7 days), and pks of expired ones to release. */
async function liveKeys(db: Db, requests: PublishRequest[], now: number) {
  const live = new Set<string>();
  const expired: number[] = [];
  const byTenant = new Map<string, Set<string>>();
  for (const r of requests) {
    const ids = byTenant.get(r.tenant) ?? new Set<string>();
    for (const e of r.events) ids.add(e.id);
    byTenant.set(r.tenant, ids);
  }
  for (const [tenant, idSet] of byTenant) {
    const ids = [...idSet];
    for (let i = 0; i < ids.length; i += CHUNK) {
      const rows = await db
        .selectFrom('events')
        .select(['pk', 'idem_key', 'published_at'])
        .where('tenant', '=', tenant)
        .where('idem_key', 'in', ids.slice(i, i + CHUNK))
        .execute();
      for (const row of rows) {
        if (row.published_at > now - IDEMPOTENCY_WINDOW_MS) live.add(keyOf(tenant, row.idem_key!));
        else expired.push(row.pk);
      }
    }
  }
  return { live, expired };
}

/**
 * Inserts the accepted events, in key order (concurrent transactions then take key locks in one
 * order). A key another transaction committed meanwhile is skipped: that event is a duplicate.
 * Answers pk and bytes by `tenant\0id` of the rows inserted here.
 */
async function insertEvents(db: Db, sealer: Sealer, accepted: Planned[], now: number) {
  const rows = accepted
    .map((p) => eventColumns(p.tenant, p.event, sealer, now))
    .sort((a, b) => (keyOf(a.tenant, a.event_id) < keyOf(b.tenant, b.event_id) ? -1 : 1));
  const pks = new Map<string, { pk: number; bytes: number }>();
  for (let i = 0; i < rows.length; i += CHUNK) {
    const inserted = await db
      .insertInto('events')
      .values(rows.slice(i, i + CHUNK))
      .onConflict((oc) => oc.columns(['tenant', 'idem_key']).doNothing())
      .returning(['pk', 'tenant', 'event_id', 'bytes'])
      .execute();
    for (const r of inserted) pks.set(keyOf(r.tenant, r.event_id), { pk: r.pk, bytes: r.bytes });
  }
  return pks;
}
