/**
 * The subscriber workflow's store activities: read settings and progress, dead-letter a batch,
 * redeliver, record a handshake's outcome, delete. Each answers sequence numbers and counts only.
 */
import type { SubscriptionStatus } from '../domain/types';
import type { MetricsRecorder } from '../metrics';
import type { Store } from '../store';
import { BacklogFullError } from '../store/errors';
import type { BacklogLimits } from '../store/queues';
import { boundedKeyword, boundedKeywordList } from '../temporal/search-attributes';
import type { Batch, HandshakeResult, RedeliverRequest } from '../workflows/messages';
import type { SyncedProgress } from '../workflows/subscriber-progress';

export interface SubscriberActivityDeps {
  store: Store;
  clock: () => Date;
  limits: BacklogLimits;
  metrics: MetricsRecorder;
}

/** The Web UI's filters of a subscription, bounded to what Temporal accepts. */
export interface SearchValues {
  targetHost: string;
  targetUrl: string;
  eventTypes: string[];
}

export function createSubscriberActivities(deps: SubscriberActivityDeps) {
  const { store } = deps;
  return {
    /** Settings and progress from the store; clears the signals owed and marks the subscriber idle. */
    async syncSubscription(
      subscriptionId: string,
    ): Promise<SyncedProgress & { search: SearchValues | null }> {
      const progress = await store.progress.sync(subscriptionId);
      const view = progress.exists
        ? await store.subscriptions.forDelivery(subscriptionId, deps.clock())
        : null;
      const sub = view?.subscription;
      return {
        ...progress,
        search: sub
          ? {
              targetHost: boundedKeyword(new URL(sub.url).host),
              targetUrl: boundedKeyword(sub.url),
              eventTypes: boundedKeywordList(sub.eventTypes),
            }
          : null,
      };
    },

    /** The batch's 7 days are over: its entries become dead letters and the queue moves on. */
    /** `deadAt`: when the workflow gave up (ms, workflow time). */
    async deadLetterBatch(subscriptionId: string, batch: Batch, deadAt: number) {
      let lastSeq = batch.lastSeq;
      // Every attempt was lost before it said what it carried: the same cut as the attempts made.
      lastSeq ??=
        (await store.progress.batch(subscriptionId, batch.afterSeq, batch.maxSeq)).at(-1)?.seq ??
        batch.maxSeq;
      const after = await store.progress.deadLetter(
        subscriptionId,
        {
          msgId: batch.msgId,
          firstSeq: batch.afterSeq + 1,
          lastSeq,
          attempts: batch.attempts,
          lastStatusCode: batch.lastStatusCode,
          lastError: batch.lastError,
        },
        deadAt,
      );
      deps.metrics.deadLettered(after.count);
      return after;
    },

    /** The Web UI's redeliver signal: the same store operation as the REST route. */
    async redeliverEvents(subscriptionId: string, request: RedeliverRequest) {
      try {
        const r = await store.queues.redeliver(subscriptionId, request, deps.limits, deps.clock().getTime());
        return { requeued: r.requeued.length, headSeq: r.headSeq, refused: null };
      } catch (err) {
        if (err instanceof BacklogFullError) return { requeued: 0, headSeq: 0, refused: err.message };
        throw err;
      }
    },

    /**
     * A handshake ended: granted activates the subscription, expired deletes it; both only if it is
     * still pending on this very handshake (a newer URL has a newer one).
     */
    async finishHandshake(
      subscriptionId: string,
      handshakeId: string,
      result: HandshakeResult,
    ): Promise<SubscriptionStatus | 'deleted'> {
      const now = deps.clock();
      if (result === 'expired') {
        return (await store.subscriptions.expireHandshake(subscriptionId, handshakeId, now))
          ? 'deleted'
          : 'pending_validation';
      }
      await store.subscriptions.transition(subscriptionId, 'pending_validation', 'active', now, handshakeId);
      return 'active';
    },

    /** Deletes the subscription (the Web UI's cancel or `delete` signal): as DELETE does. */
    async removeSubscription(subscriptionId: string): Promise<void> {
      await store.subscriptions.remove(null, subscriptionId, deps.clock());
    },
  };
}
