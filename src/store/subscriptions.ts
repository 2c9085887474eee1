/**
 * Subscriptions and their secrets: the one place a subscription's settings are written. URL
 * uniqueness per tenant is a unique index over live rows; every change bumps the tenant's routing
 * version so that publishers (in any process) reload their routing table in the same transaction
 * as their insert.
 */
import { sql } from 'kysely';
import { matchesEventType } from '../domain/matching';
import { rotateSecrets, pruneSecrets } from '../domain/secrets';
import type { SigningSecret, Subscription, SubscriptionStatus } from '../domain/types';
import type { Db, Dialect, SubscriptionsTable } from './database';
import { closeQueue, openQueue, owesSync } from './enqueue';
import { LimitExceededError, NotFoundError, UrlTakenError, VersionMismatchError } from './errors';
import { routingEntries, type RoutingEntry } from './routing';
import type { Sealer } from './sealing';
import {
  isUniqueViolation,
  liveIdByUrl,
  liveRow,
  settingsColumns,
  toSubscription,
  type SubscriptionRow,
} from './subscription-columns';
import { currentHandshake, handshakeCode, type Handshake } from './subscription-handshakes';
import { bumpRoutingVersion, lockLiveTenant } from './tenants';

export type { RoutingEntry, RoutingTable } from './routing';
export type { Handshake } from './subscription-handshakes';

/** The settings a PATCH may change. */
export type SubscriptionChanges = Partial<
  Pick<
    Subscription,
    | 'url'
    | 'name'
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

export interface ListQuery {
  url?: string;
  eventType?: string;
  status?: SubscriptionStatus;
  limit: number;
  /** The last id of the previous page (the API wraps it in an opaque cursor). */
  after?: string;
}

/** What a subscriber's activities need of its subscription. */
export interface DeliveryView {
  subscription: Subscription;
  secrets: SigningSecret[];
  handshakeId: string | null;
  deleted: boolean;
}

export class SubscriptionRows {
  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
    private readonly sealer: Sealer,
  ) {}

  private toSubscription(row: SubscriptionRow): Subscription {
    return toSubscription(row, this.sealer);
  }

  private row(db: Db, tenant: string | null, id: string, lock = false): Promise<SubscriptionRow | undefined> {
    return liveRow(db, this.dialect, tenant, id, lock);
  }

  /**
   * Registers `sub` with its first secret and its queue, in one transaction. Throws UrlTakenError
   * (the existing id) or LimitExceededError; then nothing was written.
   */
  async create(
    sub: Subscription,
    secret: string,
    handshake: Handshake | null,
    maxPerTenant: number,
  ): Promise<Subscription> {
    const now = Date.parse(sub.createdAt);
    try {
      await this.db.transaction().execute(async (trx) => {
        // First: a tenant deleted meanwhile gets no subscription (its delete removes those it sees).
        await lockLiveTenant(trx, this.dialect, sub.tenant, now);
        const taken = await liveIdByUrl(trx, sub.tenant, sub.url);
        if (taken) throw new UrlTakenError(taken);
        const { count } = await trx
          .selectFrom('subscriptions')
          .select((eb) => eb.fn.countAll<number>().as('count'))
          .where('tenant', '=', sub.tenant)
          .where('deleted_at', 'is', null)
          .executeTakeFirstOrThrow();
        if (Number(count) >= maxPerTenant) {
          throw new LimitExceededError(`at most ${maxPerTenant} subscriptions per tenant`);
        }
        const secrets: SigningSecret[] = [{ secret, expiresAt: null }];
        await trx
          .insertInto('subscriptions')
          .values({
            id: sub.id,
            tenant: sub.tenant,
            ...settingsColumns(sub, this.sealer),
            require_validation: sub.requireValidation ? 1 : 0,
            version: sub.version,
            secrets: this.sealer.sealJson(secrets),
            handshake_id: handshake?.id ?? null,
            handshake_code: handshake ? this.sealer.sealJson(handshake.code) : null,
            created_at: now,
            updated_at: now,
            deleted_at: null,
          })
          .execute();
        await openQueue(trx, sub.id);
        await bumpRoutingVersion(trx, sub.tenant, now);
      });
    } catch (err) {
      // Two registrations of one URL raced past the check: the index refused the second.
      if (isUniqueViolation(err)) {
        const taken = await liveIdByUrl(this.db, sub.tenant, sub.url);
        if (taken) throw new UrlTakenError(taken);
      }
      throw err;
    }
    return sub;
  }

  /** A live subscription of `tenant`, or null (another tenant's answers null too). */
  async get(tenant: string, id: string): Promise<Subscription | null> {
    const row = await this.row(this.db, tenant, id);
    return row ? this.toSubscription(row) : null;
  }

  async getOrThrow(tenant: string, id: string): Promise<Subscription> {
    const sub = await this.get(tenant, id);
    if (!sub) throw new NotFoundError('subscription');
    return sub;
  }

  async idByUrl(tenant: string, url: string): Promise<string | null> {
    return liveIdByUrl(this.db, tenant, url);
  }

  /**
   * A page in id order; `eventType` keeps only subscriptions whose patterns match that type. `next`:
   * the id to pass as `after` for the next page, null at the end.
   */
  async list(tenant: string, q: ListQuery): Promise<{ data: Subscription[]; next: string | null }> {
    let after = q.after ?? null;
    const data: Subscription[] = [];
    const chunk = Math.max(q.limit * 2, 50);
    for (;;) {
      let query = this.db
        .selectFrom('subscriptions')
        .selectAll()
        .where('tenant', '=', tenant)
        .where('deleted_at', 'is', null)
        .orderBy('id')
        .limit(chunk);
      if (after !== null) query = query.where('id', '>', after);
      if (q.url !== undefined) query = query.where('url', '=', q.url);
      if (q.status !== undefined) query = query.where('status', '=', q.status);
      const rows = await query.execute();
      for (const row of rows) {
        after = row.id;
        const types = JSON.parse(row.event_types) as string[];
        if (q.eventType !== undefined && !matchesEventType(types, q.eventType)) continue;
        data.push(this.toSubscription(row));
        if (data.length > q.limit) break;
      }
      if (data.length > q.limit || rows.length < chunk) break;
    }
    const more = data.length > q.limit;
    const page = data.slice(0, q.limit);
    return { data: page, next: more ? page.at(-1)!.id : null };
  }

  /**
   * Applies `changes` (checked against `expectedVersion` when given). A new URL of a subscription that
   * requires validation sends it back to pending_validation with `handshake` (a new one).
   */
  async patch(
    tenant: string,
    id: string,
    changes: SubscriptionChanges,
    expectedVersion: number | undefined,
    newHandshake: () => Handshake,
    now: Date,
  ): Promise<{ subscription: Subscription; handshake: Handshake | null }> {
    let handshake: Handshake | null = null;
    const run = () =>
      this.db.transaction().execute(async (trx) => {
        const row = await this.row(trx, tenant, id, true);
        if (!row) throw new NotFoundError('subscription');
        const current = this.toSubscription(row);
        if (expectedVersion !== undefined && expectedVersion !== current.version) {
          throw new VersionMismatchError(current.version);
        }
        const urlChanged = changes.url !== undefined && changes.url !== current.url;
        if (urlChanged) {
          const taken = await liveIdByUrl(trx, tenant, changes.url!);
          if (taken && taken !== id) throw new UrlTakenError(taken);
        }
        const next: Subscription = {
          ...current,
          ...changes,
          version: current.version + 1,
          updatedAt: now.toISOString(),
        };
        const columns: Partial<SubscriptionsTable> = { ...settingsColumns(next, this.sealer) };
        if (urlChanged && current.requireValidation) {
          // Nothing reaches the new URL before it grants: back to pending, with a handshake of its own.
          handshake = newHandshake();
          next.status = 'pending_validation';
          columns.status = next.status;
          columns.handshake_id = handshake.id;
          columns.handshake_code = this.sealer.sealJson(handshake.code);
        }
        await trx
          .updateTable('subscriptions')
          .set({ ...columns, version: next.version, updated_at: now.getTime() })
          .where('id', '=', id)
          .execute();
        await owesSync(trx, id, now.getTime());
        await bumpRoutingVersion(trx, tenant, now.getTime());
        return next;
      });
    try {
      return { subscription: await run(), handshake };
    } catch (err) {
      if (isUniqueViolation(err) && changes.url !== undefined) {
        const taken = await liveIdByUrl(this.db, tenant, changes.url);
        if (taken) throw new UrlTakenError(taken);
      }
      throw err;
    }
  }

  /**
   * Pause (`paused`) or resume (`active`). Resume also re-enables a subscription disabled by 410 Gone;
   * one pending validation stays pending.
   */
  async setStatus(tenant: string, id: string, status: 'active' | 'paused', now: Date): Promise<Subscription> {
    return this.db.transaction().execute(async (trx) => {
      const row = await this.row(trx, tenant, id, true);
      if (!row) throw new NotFoundError('subscription');
      const current = this.toSubscription(row);
      if (current.status === 'pending_validation' || current.status === status) return current;
      const next = { ...current, status, version: current.version + 1, updatedAt: now.toISOString() };
      await trx
        .updateTable('subscriptions')
        .set({ status, version: next.version, updated_at: now.getTime() })
        .where('id', '=', id)
        .execute();
      await owesSync(trx, id, now.getTime());
      await bumpRoutingVersion(trx, tenant, now.getTime());
      return next;
    });
  }

  /**
   * Deletes (soft: EventGet keeps answering `deleted` until retention purges the row) and closes its
   * queue under the queue row's lock, so no publish routes to it after this commits. Null when absent.
   */
  async remove(tenant: string | null, id: string, now: Date): Promise<Subscription | null> {
    return this.db.transaction().execute(async (trx) => {
      const row = await this.row(trx, tenant, id, true);
      if (!row) return null;
      await closeQueue(trx, this.dialect, id, now.getTime());
      await trx
        .updateTable('subscriptions')
        .set({ deleted_at: now.getTime() })
        .where('id', '=', id)
        .execute();
      await bumpRoutingVersion(trx, row.tenant, now.getTime());
      return this.toSubscription(row);
    });
  }

  /** The current signing secret. */
  async secret(tenant: string, id: string): Promise<string> {
    const row = await this.row(this.db, tenant, id);
    if (!row) throw new NotFoundError('subscription');
    const secrets = this.sealer.openJson<SigningSecret[]>(row.secrets);
    return secrets.find((s) => s.expiresAt === null)!.secret;
  }

  /** `secret` becomes current; the previous one keeps signing for 24 h. */
  async rotateSecret(tenant: string, id: string, secret: string, now: Date): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const row = await this.row(trx, tenant, id, true);
      if (!row) throw new NotFoundError('subscription');
      const secrets = rotateSecrets(this.sealer.openJson<SigningSecret[]>(row.secrets), now, secret);
      await trx
        .updateTable('subscriptions')
        .set({ secrets: this.sealer.sealJson(secrets) })
        .where('id', '=', id)
        .execute();
    });
  }

  /** The tenant's live subscriptions as publishers route by them (see RoutingTable). */
  routingEntries(db: Db, tenant: string): Promise<RoutingEntry[]> {
    return routingEntries(db, tenant);
  }

  // ---- For the subscriber's activities (no tenant: they run for the subscription itself) ----

  /** Settings, secrets (expired ones dropped) and handshake of one subscription, deleted ones too. */
  async forDelivery(id: string, now: Date): Promise<DeliveryView | null> {
    const row = await this.db.selectFrom('subscriptions').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return null;
    return {
      subscription: this.toSubscription(row),
      secrets: pruneSecrets(this.sealer.openJson<SigningSecret[]>(row.secrets), now),
      handshakeId: row.handshake_id,
      deleted: row.deleted_at !== null,
    };
  }

  /** The code of the subscription's current handshake, for its callback URL; null when none. */
  handshakeCode(id: string, handshakeId: string): Promise<string | null> {
    return handshakeCode(this.db, this.sealer, id, handshakeId);
  }

  /** The handshake id and code of a live subscription (the callback route checks a code against it). */
  currentHandshake(id: string): ReturnType<typeof currentHandshake> {
    return currentHandshake(this.db, this.sealer, id);
  }

  /**
   * Status transitions decided outside the API, each conditional on the state it starts from, so a
   * late one (a handshake superseded by a new URL, a 410 after a pause) changes nothing:
   * pending_validation → active for the current handshake; active → disabled on 410 Gone.
   * Answers whether the row changed.
   */
  async transition(
    id: string,
    from: SubscriptionStatus,
    to: SubscriptionStatus,
    now: Date,
    handshakeId?: string,
  ): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      let q = trx
        .updateTable('subscriptions')
        .set({ status: to, version: sql<number>`version + 1`, updated_at: now.getTime() })
        .where('id', '=', id)
        .where('status', '=', from)
        .where('deleted_at', 'is', null);
      if (handshakeId !== undefined) q = q.where('handshake_id', '=', handshakeId);
      const result = await q.returning('tenant').executeTakeFirst();
      if (result) {
        // The subscriber reads it on its next sync; until then the store owes it that (reconciler).
        await owesSync(trx, id, now.getTime());
        await bumpRoutingVersion(trx, result.tenant, now.getTime());
      }
      return result !== undefined;
    });
  }

  /** Deletes a registration whose handshake `handshakeId` expired, if it is still pending on it. */
  async expireHandshake(id: string, handshakeId: string, now: Date): Promise<boolean> {
    const row = await this.db
      .selectFrom('subscriptions')
      .select(['tenant'])
      .where('id', '=', id)
      .where('status', '=', 'pending_validation')
      .where('handshake_id', '=', handshakeId)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    if (!row) return false;
    return (await this.remove(row.tenant, id, now)) !== null;
  }

  /** Live subscription ids (with tenant) after `afterId`, in id order: the reconciler walks them. */
  async liveIds(afterId: string, limit: number): Promise<{ id: string; tenant: string }[]> {
    return this.db
      .selectFrom('subscriptions')
      .select(['id', 'tenant'])
      .where('deleted_at', 'is', null)
      .where('id', '>', afterId)
      .orderBy('id')
      .limit(limit)
      .execute();
  }
}
