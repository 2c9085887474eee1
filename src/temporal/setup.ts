import { status as GrpcStatus } from '@grpc/grpc-js';
import { Connection, isGrpcServiceError } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { sleep, StartupError } from '../lifecycle';
import type { Logger } from '../logger';
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

/** How long start-up may wait for Temporal, in all: connecting, namespace set-up, starting workflows. */
export const STARTUP_TIMEOUT_MS = 60_000;

/** What a start-up step may spend: until `deadline` (epoch ms), and nothing once `signal` aborts. */
export interface StartupBudget {
  deadline: number;
  signal?: AbortSignal;
  logger?: Pick<Logger, 'warn'>;
}

/** A budget of `timeoutMs` from now. */
export function startupBudget(
  opts: { timeoutMs?: number; signal?: AbortSignal; logger?: Pick<Logger, 'warn'> } = {},
): StartupBudget {
  return {
    deadline: Date.now() + (opts.timeoutMs ?? STARTUP_TIMEOUT_MS),
    signal: opts.signal,
    logger: opts.logger,
  };
}

/** Longest wait for one attempt's answer, in ms: a busy server is asked again rather than waited for. */
const ATTEMPT_TIMEOUT_MS = 10_000;

/** gRPC codes no retry changes: a wrong request, namespace set-up or credentials. */
const PERMANENT_CODES: ReadonlySet<number> = new Set([
  GrpcStatus.INVALID_ARGUMENT,
  GrpcStatus.PERMISSION_DENIED,
  GrpcStatus.UNAUTHENTICATED,
  GrpcStatus.UNIMPLEMENTED,
]);

/** The gRPC status code of `err` or of its causes, if any. */
function grpcCode(err: unknown): number | null {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (isGrpcServiceError(e)) return e.code;
  }
  return null;
}

/** Whether trying again may help: any failure but a permanent gRPC status (a busy or starting server). */
export function isTransientStartupError(err: unknown): boolean {
  const code = grpcCode(err);
  return code === null || !PERMANENT_CODES.has(code);
}

/**
 * Runs a start-up step that talks to Temporal until it succeeds, retrying transient failures ("please
 * retry" from a busy dev server, a frontend still starting) with back-off from 250 ms doubling to 5 s.
 * Past the budget's deadline the last failure becomes a one-line StartupError; a signal aborts the wait.
 * With `connection`, each attempt gets its own deadline, so a hung call is asked again.
 */
export async function retryStartupStep<T>(
  what: string,
  step: () => Promise<T>,
  budget: StartupBudget,
  connection?: Connection,
): Promise<T> {
  let delayMs = 250;
  for (let attempt = 1; ; attempt++) {
    if (budget.signal?.aborted) throw budget.signal.reason as Error;
    try {
      const attemptDeadline = Math.min(Date.now() + ATTEMPT_TIMEOUT_MS, budget.deadline);
      return await (connection ? connection.withDeadline(attemptDeadline, step) : step());
    } catch (err) {
      if (budget.signal?.aborted) throw budget.signal.reason as Error;
      if (!isTransientStartupError(err)) throw err;
      const leftMs = budget.deadline - Date.now();
      if (leftMs <= 0) {
        throw new StartupError(`${what} did not succeed before the start-up deadline: ${oneLine(err)}`, {
          cause: err,
        });
      }
      budget.logger?.warn({ attempt, error: oneLine(err) }, `${what} failed; retrying`);
      await sleep(Math.min(delayMs, leftMs), budget.signal);
      delayMs = Math.min(delayMs * 2, 5_000);
    }
  }
}

function oneLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
}

/** Connects to a frontend, retrying while it starts (a cluster may come up after us). */
export function connectWithRetry(
  address: string,
  budget: StartupBudget = startupBudget(),
): Promise<Connection> {
  return retryStartupStep(
    `connecting to Temporal at ${address}`,
    () => Connection.connect({ address, connectTimeout: 5_000 }),
    budget,
  );
}

/**
 * Readies the namespace for Hookline, retrying within `budget`: registers the search attributes and,
 * on the embedded dev server (`embedded`), raises retention to RETENTION_DAYS. Answers the
 * retention in effect, in seconds.
 */
export async function prepareNamespace(
  connection: Connection,
  namespace: string,
  opts: { embedded: boolean; budget: StartupBudget },
): Promise<number> {
  await retryStartupStep(
    `registering search attributes on namespace ${namespace}`,
    () => registerSearchAttributes(connection, namespace),
    opts.budget,
    connection,
  );
  return retryStartupStep(
    `reading the retention of namespace ${namespace}`,
    () => (opts.embedded ? ensureRetention(connection, namespace) : retentionSeconds(connection, namespace)),
    opts.budget,
    connection,
  );
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
