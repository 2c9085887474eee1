/**
 * A subscriber's progress as the store answers a sync (the syncSubscription activity): the store
 * writes it, the workflow's rules read it. Pure module: no Node built-ins, safe in workflow code.
 */
import type { SubscriptionStatus } from './types';

/** The batch the store saw attempted and not finished (after a restart of the workflow). */
export interface UnfinishedBatch {
  msgId: string;
  firstSeq: number;
  lastSeq: number;
  attempts: number;
  /** ms since the epoch, as are the other times here. */
  firstAttemptAt: number;
  lastStatusCode: number | null;
  lastError: string | null;
  lastAttemptAt: number;
}

export interface SyncedProgress {
  /** False when the store has no such subscription (or no queue for it). */
  exists: boolean;
  deleted: boolean;
  status: SubscriptionStatus;
  maxBatchSize: number;
  rateLimitPerSecond: number | null;
  handshakeId: string | null;
  headSeq: number;
  doneSeq: number;
  batch: UnfinishedBatch | null;
}
