/**
 * The one publish module shared by POST /v1/events and the ingress workflow's `publish` signal.
 * Requests that arrive while a transaction runs are committed together in the next one (group
 * commit), so one-event publishes cost a share of a transaction each, not one each. After the commit
 * the publish answers; subscribers that were idle are woken by a signal carrying sequence numbers,
 * off the publish's path. A crash between the commit and the signal loses nothing: the store still
 * owes the wake, and the reconciler sends it.
 */
import type { HooklineEvent } from '../domain/types';
import type { Logger } from '../logger';
import type { Store } from '../store';
import type { BacklogLimits } from '../store/queues';
import type { TenantDefaults } from '../store/tenants';
import type { PublishOutcome } from '../store/publishing';
import type { Subscribers } from '../temporal/subscribers';

export type { PublishOutcome } from '../store/publishing';

export interface PublisherOptions {
  store: Store;
  subscribers: Subscribers;
  limits: BacklogLimits;
  /** The cap of tenants that name none (DEFAULT_EVENTS_PER_MONTH). */
  tenantDefaults?: TenantDefaults;
  logger: Logger;
  /** Most events in one transaction. */
  maxGroupEvents?: number;
  /** Test hook: runs after a commit, before the wakes are handed over (kill-between-commit-and-signal). */
  afterCommit?: () => void;
}

interface Waiting {
  tenant: string;
  events: HooklineEvent[];
  batch: boolean;
  resolve: (outcomes: PublishOutcome[]) => void;
  reject: (err: unknown) => void;
}

export class Publisher {
  private readonly queue: Waiting[] = [];
  private running = false;
  private readonly maxGroupEvents: number;

  constructor(private readonly opts: PublisherOptions) {
    this.maxGroupEvents = opts.maxGroupEvents ?? 2000;
  }

  /**
   * Stores `events` (normalised, in publish order) and queues each to every matching subscription,
   * durably, then answers. Throws BacklogFullError when a matching subscription cannot take them: then
   * nothing of this request was stored, and publishing the same ids again is safe. Likewise
   * QuotaExceededError, EventDataInvalidError (paths under `events.<i>.data` when `batch`, else
   * `data`) and TenantGoneError.
   */
  publish(
    tenant: string,
    events: HooklineEvent[],
    opts: { batch?: boolean } = {},
  ): Promise<PublishOutcome[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ tenant, events, batch: opts.batch ?? false, resolve, reject });
      if (!this.running) {
        this.running = true;
        // One macrotask later: requests parsed in the same tick join the first group.
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const group: Waiting[] = [];
      let events = 0;
      while (
        this.queue.length > 0 &&
        (group.length === 0 || events + this.queue[0]!.events.length <= this.maxGroupEvents)
      ) {
        const next = this.queue.shift()!;
        group.push(next);
        events += next.events.length;
      }
      try {
        await this.commit(group);
      } catch (err) {
        if (group.length === 1) group[0]!.reject(err);
        else {
          // One request's failure (a database error) must not fail its neighbours: alone, each.
          this.opts.logger.warn(
            { err, requests: group.length },
            'group publish failed; retrying each request alone',
          );
          for (const w of group) await this.commit([w]).catch((e: unknown) => w.reject(e));
        }
      }
    }
    this.running = false;
  }

  private async commit(group: Waiting[]): Promise<void> {
    const { results, wakes } = await this.opts.store.publish(
      group.map((w) => ({ tenant: w.tenant, events: w.events, batch: w.batch })),
      this.opts.limits,
      Date.now(),
      this.opts.tenantDefaults,
    );
    this.opts.afterCommit?.();
    for (const wake of wakes) this.opts.subscribers.wake(wake.subscriptionId, { headSeq: wake.headSeq });
    results.forEach((r, i) => {
      if ('error' in r) group[i]!.reject(r.error);
      else group[i]!.resolve(r.outcomes);
    });
  }
}
