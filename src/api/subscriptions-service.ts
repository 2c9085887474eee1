/**
 * What the subscription and event routes do: read and write the store (the one place a subscription
 * lives), then tell the subscriber workflow to look again. A tenant sees only its own rows: another
 * tenant's subscription or event is "not found". No route waits on Temporal: a change is committed in
 * the store first, and a wake that fails is sent again by the reconciler (the store owes it).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Config } from '../config';
import { generateSecret } from '../delivery/signing';
import type { HooklineEvent, Subscription } from '../domain/types';
import type { Logger } from '../logger';
import { TargetForbiddenError, TargetResolutionError, type TargetGuard } from '../net/ssrf';
import { normalizeTargetUrl, TargetUrlError } from '../net/url';
import type { Store } from '../store';
import type { AttemptPageQuery } from '../store/attempts';
import { NotFoundError } from '../store/errors';
import type { EntryStatus } from '../store/queues';
import type { Handshake, ListQuery, SubscriptionChanges } from '../store/subscriptions';
import type { Subscribers } from '../temporal/subscribers';
import { HttpError } from './errors';
import { EVENT_FORMAT_BATCH } from './schemas/subscription';

export type SubscriptionInput = Pick<
  Subscription,
  | 'url'
  | 'eventTypes'
  | 'format'
  | 'requireValidation'
  | 'maxBatchSize'
  | 'headers'
  | 'rateLimitPerSecond'
  | 'description'
  | 'metadata'
> &
  Partial<Pick<Subscription, 'subject' | 'categories' | 'labels' | 'name'>>;

export interface SubscriptionServiceDeps {
  store: Store;
  subscribers: Subscribers;
  config: Config;
  guard: TargetGuard;
  logger: Logger;
}

/** Entries shown by `GET …/queue` (the `size` counts them all). */
const QUEUE_VIEW_LIMIT = 1000;

/** 32 alphanumerics for the handshake's callback URL. */
function handshakeCode(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(64);
  let code = '';
  // Rejection sampling keeps the alphabet uniform (248 = 4 * 62).
  for (const b of bytes) if (b < 248 && code.length < 32) code += alphabet[b % 62];
  return code.length === 32 ? code : handshakeCode();
}

function newHandshake(): Handshake {
  return { id: randomBytes(16).toString('hex'), code: handshakeCode() };
}

/** Only `sub_` + 32 hex is ever one of ours: anything else is not found without a query. */
const SUBSCRIPTION_ID = /^sub_[0-9a-f]{32}$/;

export class SubscriptionService {
  constructor(private readonly deps: SubscriptionServiceDeps) {}

  private get store() {
    return this.deps.store;
  }

  /** Refuses targets in forbidden networks (after DNS), with the reason in a 400. */
  async checkTarget(url: string): Promise<string> {
    let normalized: string;
    try {
      normalized = normalizeTargetUrl(url);
      await this.deps.guard.checkUrl(normalized);
    } catch (err) {
      if (
        err instanceof TargetForbiddenError ||
        err instanceof TargetUrlError ||
        err instanceof TargetResolutionError
      ) {
        throw HttpError.badRequest('the url is not an allowed delivery target', [
          { path: 'url', message: err.message },
        ]);
      }
      throw err;
    }
    return normalized;
  }

  /** Tells the subscriber to read its settings again; off the request's path (the store owes it). */
  private changed(id: string): void {
    this.deps.subscribers.wake(id, { changed: true });
  }

  async create(
    tenant: string,
    input: SubscriptionInput,
  ): Promise<{ subscription: Subscription; secret: string }> {
    const url = await this.checkTarget(input.url);
    const now = new Date().toISOString();
    const subscription: Subscription = {
      id: `sub_${randomUUID().replace(/-/g, '')}`,
      tenant,
      url,
      name: input.name ?? null,
      eventTypes: input.eventTypes,
      subject: input.subject ?? null,
      categories: input.categories ?? null,
      labels: input.labels ?? null,
      format: input.format,
      status: input.requireValidation ? 'pending_validation' : 'active',
      requireValidation: input.requireValidation,
      maxBatchSize: input.maxBatchSize,
      headers: input.headers,
      rateLimitPerSecond: input.rateLimitPerSecond,
      description: input.description,
      metadata: input.metadata,
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
    const secret = generateSecret();
    const handshake = input.requireValidation ? newHandshake() : null;
    await this.store.subscriptions.create(
      subscription,
      secret,
      handshake,
      this.deps.config.maxSubscriptionsPerTenant,
    );
    // Its workflow starts off the request's path; a subscription without one gets it on its first
    // wake, or from the reconciler (which also starts those a handshake waits for).
    this.deps.subscribers.start(subscription.id).catch((err: unknown) => {
      this.deps.logger.warn(
        { err, subscriptionId: subscription.id },
        'subscriber not started yet; the reconciler will',
      );
    });
    return { subscription, secret };
  }

  async get(tenant: string, id: string): Promise<Subscription> {
    if (!SUBSCRIPTION_ID.test(id)) throw new NotFoundError('subscription');
    return this.store.subscriptions.getOrThrow(tenant, id);
  }

  list(tenant: string, q: ListQuery) {
    return this.store.subscriptions.list(tenant, q);
  }

  async patch(
    tenant: string,
    id: string,
    changes: SubscriptionChanges,
    expectedVersion: number | undefined,
  ): Promise<Subscription> {
    if (!SUBSCRIPTION_ID.test(id)) throw new NotFoundError('subscription');
    if (changes.format !== undefined || changes.maxBatchSize !== undefined) {
      const current = await this.get(tenant, id);
      const format = changes.format ?? current.format;
      if (format === 'event' && (changes.maxBatchSize ?? current.maxBatchSize) !== 1) {
        throw HttpError.badRequest('the body is not valid', [
          { path: 'maxBatchSize', message: EVENT_FORMAT_BATCH },
        ]);
      }
    }
    const next = { ...changes };
    if (changes.url !== undefined) next.url = await this.checkTarget(changes.url);
    const { subscription } = await this.store.subscriptions.patch(
      tenant,
      id,
      next,
      expectedVersion,
      newHandshake,
      new Date(),
    );
    this.changed(id);
    return subscription;
  }

  async remove(tenant: string, id: string): Promise<void> {
    if (!SUBSCRIPTION_ID.test(id)) throw new NotFoundError('subscription');
    if (!(await this.store.subscriptions.remove(tenant, id, new Date())))
      throw new NotFoundError('subscription');
    this.changed(id);
  }

  async removeByUrl(tenant: string, url: string): Promise<void> {
    let normalized: string;
    try {
      normalized = normalizeTargetUrl(url);
    } catch {
      throw new NotFoundError('subscription');
    }
    const id = await this.store.subscriptions.idByUrl(tenant, normalized);
    if (!id) throw new NotFoundError('subscription');
    await this.remove(tenant, id);
  }

  async secret(tenant: string, id: string): Promise<string> {
    await this.get(tenant, id);
    return this.store.subscriptions.secret(tenant, id);
  }

  async rotateSecret(tenant: string, id: string): Promise<string> {
    await this.get(tenant, id);
    const secret = generateSecret();
    await this.store.subscriptions.rotateSecret(tenant, id, secret, new Date());
    return secret;
  }

  async setStatus(tenant: string, id: string, status: 'active' | 'paused'): Promise<Subscription> {
    if (!SUBSCRIPTION_ID.test(id)) throw new NotFoundError('subscription');
    const updated = await this.store.subscriptions.setStatus(tenant, id, status, new Date());
    this.changed(id);
    return updated;
  }

  async queue(tenant: string, id: string) {
    await this.get(tenant, id);
    return this.store.queues.queue(id, QUEUE_VIEW_LIMIT);
  }

  async deliveries(tenant: string, id: string, q: AttemptPageQuery) {
    await this.get(tenant, id);
    return this.store.attempts.page(id, q);
  }

  async entry(
    tenant: string,
    id: string,
    eventId: string,
  ): Promise<EntryStatus & { subscriptionId: string }> {
    await this.get(tenant, id);
    const event = await this.store.events.get(tenant, eventId, Date.now());
    const status = event ? await this.store.queues.entry(id, event.pk, eventId) : null;
    if (!status) throw new NotFoundError('event');
    return { ...status, subscriptionId: id };
  }

  async deadLetters(tenant: string, id: string) {
    await this.get(tenant, id);
    return this.store.queues.deadLetters(id, Date.now());
  }

  /** Re-queues dead letters, and re-sends delivered events named by id, in their original order. */
  async redeliver(tenant: string, id: string, req: { eventIds?: string[]; since?: string }) {
    await this.get(tenant, id);
    const result = await this.store.queues.redeliver(id, req, this.deps.config.backlog, Date.now());
    if (result.wake) this.deps.subscribers.wake(id, { headSeq: result.wake.headSeq });
    return { requeued: result.requeued };
  }

  /** An event of `tenant` and where it stands at each subscription it was queued to; null if unknown. */
  async event(
    tenant: string,
    eventId: string,
  ): Promise<(HooklineEvent & { subscriptions: { id: string; status: string }[] }) | null> {
    const found = await this.store.events.get(tenant, eventId, Date.now());
    if (!found) return null;
    const queuedTo = await this.store.events.subscriptionsOf(found.pk);
    const subscriptions = await Promise.all(
      queuedTo.map(async (s) => {
        if (s.deleted) return { id: s.id, status: 'deleted' };
        const entry = await this.store.queues.entry(s.id, found.pk, eventId);
        return { id: s.id, status: entry?.status ?? 'deleted' };
      }),
    );
    return { ...found.event, subscriptions };
  }
}
