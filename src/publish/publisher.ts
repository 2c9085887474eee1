/**
 * The one publish module shared by POST /v1/events and the tenant workflow's `publish` signal: it
 * routes each event to the tenant's matching subscriptions, queues it durably in each (in publish
 * order), and records it for idempotency and EventGet.
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { matchesFilter } from '../domain/matching';
import type { HooklineEvent } from '../domain/types';
import type { Logger } from '../logger';
import { subscriberWorkflowId, tenantWorkflowId } from '../workflows/ids';
import { EventRecords, type GeneratedIds } from './records';
import { enqueueUpdate, eventsSignal, routesQuery, type RoutingTable } from '../workflows/messages';

export interface PublishOutcome {
  id: string;
  duplicate: boolean;
  subscriptions: string[];
}

/** Some matching subscription's backlog is full: nothing of this publish was recorded; retry later. */
export class BacklogFullError extends Error {
  override name = 'BacklogFullError';
  constructor(
    readonly subscriptionIds: string[],
    readonly retryAfterSeconds: number,
  ) {
    super(`backlog full for ${subscriptionIds.join(', ')}`);
  }
}

export interface PublisherOptions {
  client: Client;
  taskQueue: string;
  logger: Logger;
  /** ms a cached routing table is used without asking the registry again. */
  routeCacheMs?: number;
  /**
   * ms to wait for a subscriber to take events by update before falling back to the events signal,
   * which the server keeps even while no worker runs (the cap is then not enforced for that batch).
   */
  updateDeadlineMs?: number;
  /** Most events one coalesced update carries. */
  maxEventsPerUpdate?: number;
  /**
   * ms a subscriber that missed the update deadline is sent events by signal at once, without trying
   * an update first: while no worker runs, publishing keeps answering instead of waiting every time.
   */
  signalModeMs?: number;
  /** ms a publish waits for a stale routing table to be refreshed before it routes by the stale one. */
  routeRefreshWaitMs?: number;
  /** The namespace's retention of closed workflows, which sets how long event records stay open. */
  retentionSeconds?: number;
}

interface Waiting {
  events: HooklineEvent[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** ms before a failed refresh of a routing table is tried again (the stale table routes meanwhile). */
const ROUTE_RETRY_MS = 5_000;

/** Retry-After of a 503 for a full backlog: enough for a few batches to drain. */
const BACKLOG_RETRY_AFTER_SECONDS = 5;

export class Publisher {
  /** Routing tables by tenant: when loaded, and until when a failed refresh is not tried again. */
  private readonly routes = new Map<string, { table: RoutingTable; at: number; retryAt?: number }>();
  private readonly routeLoads = new Map<string, Promise<RoutingTable>>();
  private readonly queues = new Map<string, Waiting[]>();
  private readonly routeCacheMs: number;
  private readonly updateDeadlineMs: number;
  private readonly maxEventsPerUpdate: number;
  private readonly signalModeMs: number;
  private readonly routeRefreshWaitMs: number;
  /** Subscribers that missed the update deadline: until when they get signals without an update. */
  private readonly signalUntil = new Map<string, number>();
  readonly records: EventRecords;

  constructor(private readonly opts: PublisherOptions) {
    this.records = new EventRecords(opts.client, opts.taskQueue, opts.retentionSeconds);
    this.routeCacheMs = opts.routeCacheMs ?? 1_000;
    this.updateDeadlineMs = opts.updateDeadlineMs ?? 10_000;
    this.maxEventsPerUpdate = opts.maxEventsPerUpdate ?? 500;
    this.signalModeMs = opts.signalModeMs ?? 15_000;
    this.routeRefreshWaitMs = opts.routeRefreshWaitMs ?? 1_000;
  }

  /** Forget the cached routing table, after this process changed the registry. */
  invalidate(tenant: string): void {
    this.routes.delete(tenant);
  }

  /**
   * Routes, queues and records `events` in order. Resolves once every matching subscription holds
   * them durably. Throws BacklogFullError when one cannot take them (some others may have: publishing
   * the same ids again is safe, since subscribers drop repeated ids).
   */
  async publish(
    tenant: string,
    events: HooklineEvent[],
    opts: { generated?: GeneratedIds } = {},
  ): Promise<PublishOutcome[]> {
    const generated = (e: HooklineEvent) => opts.generated?.owns(e.id) ?? false;
    // A repeated id within one request counts once: its later copies are duplicates.
    const firsts = new Map<string, HooklineEvent>();
    for (const event of events) if (!firsts.has(event.id)) firsts.set(event.id, event);
    const unique = [...firsts.values()];
    const duplicates = await this.knownIds(
      tenant,
      unique.filter((e) => !generated(e)),
    );
    const fresh = unique.filter((e) => !duplicates.has(e.id));
    const table = fresh.length > 0 ? await this.routingTable(tenant) : { version: 0, entries: [] };

    const perSubscription = new Map<string, HooklineEvent[]>();
    const matched = new Map<string, string[]>();
    for (const event of fresh) {
      const ids = table.entries.filter((entry) => matchesFilter(entry, event)).map((entry) => entry.id);
      matched.set(event.id, ids);
      for (const id of ids) {
        const list = perSubscription.get(id) ?? [];
        list.push(event);
        perSubscription.set(id, list);
      }
    }

    const results = await Promise.allSettled(
      [...perSubscription].map(([id, list]) => this.enqueue(id, list).then(() => id)),
    );
    const full: string[] = [];
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') return;
      const id = [...perSubscription.keys()][i]!;
      if (isBacklogFull(r.reason)) full.push(id);
      else if (!isGone(r.reason)) throw r.reason;
    });
    if (full.length > 0) throw new BacklogFullError(full, BACKLOG_RETRY_AFTER_SECONDS);

    // Recorded only once queued everywhere: a publish refused above can be repeated with the same ids.
    const publishedAt = new Date().toISOString();
    const raced = new Set<string>();
    const generatedFresh = fresh.filter(generated);
    await Promise.all([
      generatedFresh.length > 0 && opts.generated
        ? this.records.recordPublish({
            tenant,
            key: opts.generated.key,
            publishedAt,
            events: generatedFresh.map((event) => ({ event, subscriptionIds: matched.get(event.id) ?? [] })),
          })
        : null,
      ...fresh
        .filter((e) => !generated(e))
        .map(async (event) => {
          const subscriptionIds = matched.get(event.id) ?? [];
          if (!(await this.records.claim({ tenant, event, subscriptionIds, publishedAt })))
            raced.add(event.id);
        }),
    ]);
    return events.map((event) => {
      const duplicate = duplicates.has(event.id) || raced.has(event.id) || firsts.get(event.id) !== event;
      return { id: event.id, duplicate, subscriptions: duplicate ? [] : (matched.get(event.id) ?? []) };
    });
  }

  /** Ids among `events` that were published before (their record exists). */
  private async knownIds(tenant: string, events: HooklineEvent[]): Promise<Set<string>> {
    const exists = await Promise.all(events.map((e) => this.records.exists(tenant, e.id)));
    return new Set(events.filter((_, i) => exists[i]).map((e) => e.id));
  }

  /**
   * The tenant's routing table, cached briefly; concurrent callers share one query. A query needs a
   * worker: when the refresh of a stale table does not answer quickly, route by the stale table (the
   * refresh goes on and replaces it when it answers).
   */
  private async routingTable(tenant: string): Promise<RoutingTable> {
    const cached = this.routes.get(tenant);
    if (cached && Date.now() - cached.at < this.routeCacheMs) return cached.table;
    // A refresh failed lately, or one is still waiting for an answer: do not wait for the registry again.
    if (cached && (Date.now() < (cached.retryAt ?? 0) || this.routeLoads.has(tenant))) return cached.table;
    const load = this.loadRoutingTable(tenant);
    if (!cached) return load;
    let timer: NodeJS.Timeout | undefined;
    const stale = new Promise<RoutingTable>((resolve) => {
      timer = setTimeout(() => resolve(cached.table), this.routeRefreshWaitMs);
    });
    try {
      return await Promise.race([load, stale]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Asks the registry for the table (one query at a time per tenant); only `routingTable` calls it. */
  private async loadRoutingTable(tenant: string): Promise<RoutingTable> {
    const cached = this.routes.get(tenant);
    let load = this.routeLoads.get(tenant);
    if (!load) {
      load = this.opts.client.workflow
        .getHandle(tenantWorkflowId(tenant))
        .query(routesQuery)
        .then((table) => {
          this.routes.set(tenant, { table, at: Date.now() });
          return table;
        })
        .catch((err: unknown) => {
          if (err instanceof WorkflowNotFoundError) return { version: 0, entries: [] };
          // No worker to answer: route by the last table known here rather than refuse the publish.
          if (cached) {
            this.opts.logger.warn({ err, tenant }, 'registry did not answer; routing by the cached table');
            this.routes.set(tenant, { ...cached, retryAt: Date.now() + ROUTE_RETRY_MS });
            return cached.table;
          }
          throw err;
        })
        .finally(() => this.routeLoads.delete(tenant));
      this.routeLoads.set(tenant, load);
    }
    return load;
  }

  /**
   * Queues events to one subscription. Concurrent publishes to the same subscription coalesce: one
   * update is in flight per subscription, and the next carries everything that arrived meanwhile.
   */
  private enqueue(subscriptionId: string, events: HooklineEvent[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let queue = this.queues.get(subscriptionId);
      const idle = !queue;
      if (!queue) {
        queue = [];
        this.queues.set(subscriptionId, queue);
      }
      queue.push({ events, resolve, reject });
      if (idle) void this.drain(subscriptionId, queue);
    });
  }

  private async drain(subscriptionId: string, queue: Waiting[]): Promise<void> {
    while (queue.length > 0) {
      const batch: Waiting[] = [];
      let count = 0;
      while (
        queue.length > 0 &&
        (batch.length === 0 || count + queue[0]!.events.length <= this.maxEventsPerUpdate)
      ) {
        const next = queue.shift()!;
        batch.push(next);
        count += next.events.length;
      }
      try {
        await this.send(
          subscriptionId,
          batch.flatMap((w) => w.events),
        );
        batch.forEach((w) => w.resolve());
      } catch (err) {
        batch.forEach((w) => w.reject(err));
      }
    }
    this.queues.delete(subscriptionId);
  }

  private async send(subscriptionId: string, events: HooklineEvent[]): Promise<void> {
    const handle = this.opts.client.workflow.getHandle(subscriberWorkflowId(subscriptionId));
    if (Date.now() < (this.signalUntil.get(subscriptionId) ?? 0)) {
      // It missed the deadline lately (no worker, most likely): do not make every publish wait for it.
      await handle.signal(eventsSignal, { events });
      return;
    }
    this.signalUntil.delete(subscriptionId);
    const update = handle.executeUpdate(enqueueUpdate, { args: [{ events }] });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => {
      timer = setTimeout(() => resolve('deadline'), this.updateDeadlineMs);
    });
    try {
      const winner = await Promise.race([update, deadline]);
      if (winner !== 'deadline') return;
    } finally {
      clearTimeout(timer);
    }
    // No worker took the update in time: the signal is durable without one. Should the update still
    // land later, the subscriber drops the repeated ids.
    update.catch(() => undefined);
    this.signalUntil.set(subscriptionId, Date.now() + this.signalModeMs);
    this.opts.logger.warn(
      { subscriptionId, events: events.length },
      'subscriber slow to answer; queued by signal',
    );
    await handle.signal(eventsSignal, { events });
  }
}

function failureType(err: unknown): string | undefined {
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure)
    return err.cause.type ?? undefined;
  return undefined;
}

function isBacklogFull(err: unknown): boolean {
  return failureType(err) === 'BacklogFull';
}

/** The subscription went away between routing and queueing: it takes no events. */
function isGone(err: unknown): boolean {
  return err instanceof WorkflowNotFoundError || failureType(err) === 'Deleted';
}
