/**
 * One long-running workflow per subscription (an entity workflow): it holds delivery progress (what
 * is in flight, the attempt, the retry timers, status), never data; the activities load payloads and
 * secrets from the store. One batch at a time: FIFO with head-of-line blocking. Retries are scheduled
 * here, one activity attempt each, so pause, resume, settings changes, delete and continue-as-new all
 * take effect while an endpoint is down for days. The rules live in ./subscriber-progress (pure).
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { DeliveryFailureDetails } from '../activities/deliver';
import { SA } from '../temporal/search-attributes';
import { handshakeWorkflow } from './handshake';
import { handshakeWorkflowId } from './ids';
import {
  deleteSignal,
  deliveriesQuery,
  progressQuery,
  redeliverSignal,
  wakeSignal,
  type SubscriberInput,
} from './messages';
import { initialState, SubscriberProgress, type AttemptOutcome, type Step } from './subscriber-progress';

export { subscriberWorkflowId } from './ids';

const { deliverBatch } = proxyActivities<Activities>({
  // The HTTP request itself times out at 15 s; the rest is loading, signing and margin.
  startToCloseTimeout: '30 seconds',
  // One attempt per activity: this workflow schedules retries itself (see the header comment).
  retry: { maximumAttempts: 1 },
});
/** Store reads and writes: retried (the database may be restarting) as long as it takes. */
const store = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export async function subscriberWorkflow(input: SubscriberInput): Promise<void> {
  const progress = new SubscriberProgress(input.subscriptionId, input.state ?? initialState());
  setHandler(wakeSignal, (wake) => progress.onWake(wake));
  setHandler(redeliverSignal, (request) => progress.onRedeliver(request));
  setHandler(deleteSignal, () => progress.onDelete());
  setHandler(progressQuery, () => progress.view());
  setHandler(deliveriesQuery, (limit) => progress.recentAttempts(limit));
  try {
    while (!progress.ended) {
      // Handlers are synchronous, but an update or signal reaches history a few microtasks after its
      // handler returns; commands issued here must follow it, or replay would not match.
      if (!allHandlersFinished()) await condition(allHandlersFinished);
      setCurrentDetails(progress.details());
      indexStatus(progress.state.status);
      if (workflowInfo().continueAsNewSuggested && progress.canContinueAsNew()) {
        // continueAsNew is like process.exit: no handler may still be running.
        await condition(allHandlersFinished);
        await continueAsNew<typeof subscriberWorkflow>({ ...input, state: progress.state });
      }
      await run(
        progress,
        progress.next(Date.now(), () => `msg_${uuid4().replace(/-/g, '')}`),
      );
    }
  } catch (err) {
    if (!isCancellation(err)) throw err;
    // "Request Cancellation" in the Web UI is a delete: the URL is freed and no publish routes here.
    await CancellationScope.nonCancellable(() => store.removeSubscription(input.subscriptionId));
  }
  indexStatus('deleted');
}

/** Carries out one step and feeds its result back into `progress`. */
async function run(progress: SubscriberProgress, step: Step): Promise<void> {
  const id = progress.subscriptionId;
  switch (step.kind) {
    case 'remove':
      await store.removeSubscription(id);
      progress.ended = true;
      return;
    case 'sync': {
      const synced = await store.syncSubscription(id);
      progress.synced(synced, Date.now());
      if (synced.search) indexSettings(synced.search);
      return;
    }
    case 'redeliver':
      progress.redelivered(await store.redeliverEvents(id, step.request));
      return;
    case 'deadLetter':
      // Workflow time: the 7 days of a dead letter run from when this workflow gave up.
      progress.deadLettered(await store.deadLetterBatch(id, step.batch, Date.now()));
      return;
    case 'handshake':
      await startHandshake(progress, step.handshakeId);
      return;
    case 'deliver':
      await attempt(progress);
      return;
    case 'wait': {
      const [signals, controls] = [progress.signals, progress.controls];
      const woken = () => progress.controls !== controls || (step.anySignal && progress.signals !== signals);
      // Timer summaries show in the Web UI; they are metadata, not part of what replay compares.
      if (step.until === null) await condition(woken);
      else await condition(woken, Math.max(1, step.until - Date.now()), { summary: step.summary });
    }
  }
}

async function attempt(progress: SubscriberProgress): Promise<void> {
  const batch = progress.state.batch!;
  const startedAt = Date.now();
  const n = progress.startAttempt(startedAt);
  let outcome: AttemptOutcome;
  try {
    const result = await deliverBatch.executeWithOptions(
      {
        startToCloseTimeout: '30 seconds',
        retry: { maximumAttempts: 1 },
        // Until an attempt said how many the size cut took, the count the bounds allow.
        summary: `${batch.msgId} · ${batch.events ?? batch.maxSeq - batch.afterSeq} events · attempt ${n}`,
      },
      [
        {
          subscriptionId: progress.subscriptionId,
          msgId: batch.msgId,
          afterSeq: batch.afterSeq,
          maxSeq: batch.maxSeq,
          attempt: n,
          at: startedAt,
        },
      ],
    );
    if (result.outcome === 'skipped') return progress.attemptSkipped(result.status);
    if (result.outcome === 'empty') return progress.batchVanished();
    outcome = { ...result, ok: true, error: null, errorClass: null, retryAfterMs: null, gone: false };
  } catch (err) {
    outcome = failureOutcome(err);
  }
  progress.attempted(outcome, startedAt, Date.now());
}

/** A failed attempt as the delivery activity described it, or a lost one (timeout, lost worker). */
function failureOutcome(err: unknown): AttemptOutcome {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  const d = (cause instanceof ApplicationFailure ? cause.details?.[0] : undefined) as
    Partial<DeliveryFailureDetails> | undefined;
  return {
    ok: false,
    statusCode: d?.statusCode ?? null,
    error: cause instanceof Error ? cause.message : String(cause),
    errorClass: d?.errorClass ?? 'internal',
    durationMs: d?.durationMs ?? 0,
    retryAfterMs: d?.retryAfterMs ?? null,
    firstSeq: d?.firstSeq ?? null,
    lastSeq: d?.lastSeq ?? null,
    events: d?.events ?? null,
    headSeq: d?.headSeq ?? null,
    doneSeq: null,
    gone: cause instanceof ApplicationFailure && cause.type === 'Gone',
  };
}

/**
 * Starts the handshake child; its outcome is written to the store when it ends (conditionally: a
 * handshake superseded by a newer URL changes nothing), then the subscriber reads the store again.
 */
async function startHandshake(progress: SubscriberProgress, handshakeId: string): Promise<void> {
  const id = progress.subscriptionId;
  const child = await startChild(handshakeWorkflow, {
    workflowId: handshakeWorkflowId(id, handshakeId),
    args: [{ subscriptionId: id, handshakeId }],
    parentClosePolicy: ParentClosePolicy.TERMINATE,
  });
  progress.handshakeStarted(handshakeId);
  void child
    .result()
    .then((result) => store.finishHandshake(id, handshakeId, result))
    .catch(() => undefined)
    .finally(() => progress.handshakeEnded(handshakeId));
}

/** Search attributes are kept current only where the starter set them (the time-skipping server has none). */
function indexed(): boolean {
  return workflowInfo().typedSearchAttributes.get(SA.subscriptionId) !== undefined;
}

function indexStatus(status: string): void {
  if (indexed() && workflowInfo().typedSearchAttributes.get(SA.status) !== status) {
    upsertSearchAttributes([{ key: SA.status, value: status }]);
  }
}

function indexSettings(search: { targetHost: string; targetUrl: string; eventTypes: string[] }): void {
  if (!indexed()) return;
  const current = workflowInfo().typedSearchAttributes;
  if (
    current.get(SA.targetUrl) === search.targetUrl &&
    JSON.stringify(current.get(SA.eventTypes)) === JSON.stringify(search.eventTypes)
  )
    return;
  upsertSearchAttributes([
    { key: SA.targetHost, value: search.targetHost },
    { key: SA.targetUrl, value: search.targetUrl },
    { key: SA.eventTypes, value: search.eventTypes },
  ]);
}
