import { status as GrpcStatus } from '@grpc/grpc-js';
import { Connection, isGrpcServiceError } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTE_TYPES } from './search-attributes';

const IndexedValueType = temporal.api.enums.v1.IndexedValueType;

/**
 * Registers the custom search attributes on the namespace; those already there are left alone.
 * Idempotent: every process may call it at start-up.
 */
export async function registerSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = Object.entries(SEARCH_ATTRIBUTE_TYPES).filter(
    ([name]) => !(name in (existing.customAttributes ?? {})),
  );
  if (missing.length === 0) return;
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(
        missing.map(([name, type]) => [
          name,
          type === 'KeywordList'
            ? IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST
            : IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
        ]),
      ),
    });
  } catch (err) {
    // Another process registered them between our list and add.
    if (!(isGrpcServiceError(err) && err.code === GrpcStatus.ALREADY_EXISTS)) throw err;
  }
}

/** Connects to a frontend, retrying while it starts (a cluster may come up after us). */
export async function connectWithRetry(address: string, timeoutMs = 60_000): Promise<Connection> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await Connection.connect({ address, connectTimeout: 5_000 });
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}

/** Event records and dead letters are kept this long after they close (EventGet works for 7 days). */
export const RETENTION_DAYS = 7;

/** The namespace's retention of closed workflows, in seconds. */
export async function retentionSeconds(connection: Connection, namespace: string): Promise<number> {
  const current = await connection.workflowService.describeNamespace({ namespace });
  return Number(current.config?.workflowExecutionRetentionTtl?.seconds ?? 0);
}

/**
 * Sets the namespace's retention to RETENTION_DAYS if it is shorter. Used on the embedded dev server,
 * which creates its namespace with a shorter default; a cluster's namespace is its operators' (the
 * compose file creates it with 7 days). Answers the retention in effect, in seconds.
 */
export async function ensureRetention(connection: Connection, namespace: string): Promise<number> {
  const wanted = RETENTION_DAYS * 24 * 3600;
  const current = await retentionSeconds(connection, namespace);
  if (current >= wanted) return current;
  await connection.workflowService.updateNamespace({
    namespace,
    config: { workflowExecutionRetentionTtl: msToTs(wanted * 1000) },
  });
  return wanted;
}
