/**
 * One long-running workflow per subscription (an entity workflow). It owns the subscription's settings
 * and its queue, and sends one batch at a time: FIFO with head-of-line blocking. Retries are scheduled
 * here, one activity attempt each, so that pause, resume, config changes, delete and continue-as-new
 * all take effect while an endpoint is down for days. The rules live in ./state (pure).
 */
import {
  ActivityFailure,
  ApplicationFailure,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  executeChild,
  getExternalWorkflowHandle,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { DeliveryFailureDetails } from '../activities/deliver';
import { pruneSecrets, rotateSecrets } from '../domain/secrets';
import type { HooklineEvent, Subscription, SubscriptionStatus } from '../domain/types';
import { SA, boundedKeyword, boundedKeywordList } from '../temporal/search-attributes';
import {
  activateUpdate,
  deadLettersQuery,
  deleteSignal,
  deleteUpdate,
  deliveriesQuery,
  entryChangedSignal,
  unregisterSignal,
  enqueueUpdate,
  entryStatusQuery,
  eventsSignal,
  queueQuery,
  redeliverSignal,
  redeliverUpdate,
  rotateSecretUpdate,
  secretsQuery,
  setStatusUpdate,
  subscriptionQuery,
  updateConfigUpdate,
  type ConfigPatch,
  type EnqueueRequest,
  type RegistryEntry,
  type SubscriberInput,
  type ValidationResult,
} from './messages';
import { tenantWorkflowId, validationWorkflowId } from './ids';
import { sinks } from './sinks';
import {
  capacityError,
  currentDetails,
  cutBatch,
  enqueue,
  entryStatus,
  finishAttempt,
  initialState,
  nextAttemptTime,
  nextDeadLetterExpiry,
  purgeExpiredDeadLetters,
  queuedCount,
  queueView,
  requeue,
  startAttempt,
  type AttemptOutcome,
} from './state';

const { deliver } = proxyActivities<Activities>({
  // The HTTP request itself times out at 15 s; the rest is DNS, signing and margin.
  startToCloseTimeout: '30 seconds',
  // One attempt per activity: this workflow schedules retries itself (see the header comment).
  retry: { maximumAttempts: 1 },
});

export { subscriberWorkflowId } from './ids';

function outcomeFromFailure(err: unknown): { outcome: AttemptOutcome; gone: boolean } {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    const d = (cause.details?.[0] ?? {}) as Partial<DeliveryFailureDetails>;
    return {
      outcome: {
        ok: false,
        statusCode: d.statusCode ?? null,
        error: cause.message,
        errorClass: d.errorClass ?? 'internal',
        durationMs: d.durationMs ?? 0,
        retryAfterMs: d.retryAfterMs ?? null,
      },
      gone: cause.type === 'Gone',
    };
  }
  // A timeout of the activity itself (worker lost mid-attempt), or anything else: a failed attempt.
  const message = err instanceof Error ? err.message : String(err);
  return {
    outcome: {
      ok: false,
      statusCode: null,
      error: message,
      errorClass: 'internal',
      durationMs: 0,
      retryAfterMs: null,
    },
    gone: false,
  };
}

export async function subscriberWorkflow(input: SubscriberInput): Promise<void> {
  let sub: Subscription = input.subscription;
  let secrets = input.secrets;
  const limits = input.limits;
  const state = input.state ?? initialState();
  let deleted = false;
  let attempting = false;
  /** Bumped by handlers that change what the loop should do: status, settings, redelivery. */
  let control = 0;
  /** Bumped by every enqueue: wakes an idle loop, but not one waiting out a back-off. */
  let arrivals = 0;

  const nowIso = () => new Date().toISOString();
  // Search attributes are kept current only where the starter set them (a server without them, such as
  // the time-skipping test server, would fail the task).
  const indexed = workflowInfo().typedSearchAttributes.get(SA.subscriptionId) !== undefined;
  const index = (pairs: Parameters<typeof upsertSearchAttributes>[0]) => {
    if (indexed) upsertSearchAttributes(pairs);
  };
  /**
   * Tells the tenant's registry (routing, listing) about a change made here. Fire and forget: a
   * subscriber started without a registry (tests) just gets a failed signal it ignores.
   */
  const notifyRegistry = (changes: Partial<Omit<RegistryEntry, 'id'>>) => {
    // Added after the first recorded histories: runs that began before it replay without the signal.
    if (!patched('notify-registry')) return;
    getExternalWorkflowHandle(tenantWorkflowId(sub.tenant))
      .signal(entryChangedSignal, { id: sub.id, changes })
      .catch(() => undefined);
  };
  const setStatus = (status: SubscriptionStatus, at: string) => {
    if (sub.status === status) return;
    sub = { ...sub, status, version: sub.version + 1, updatedAt: at };
    index([{ key: SA.status, value: status }]);
    notifyRegistry({ status });
  };

  /**
   * Tells the worker's metrics the backlog (a sink: no command, skipped during replay). A deleted
   * subscription's gauge is removed, not set. Called directly, not coalesced through a microtask:
   * the worker records a stack trace for every promise a workflow creates (its stack-trace query),
   * and that cost far more per activation than one more sink call (README, Performance).
   */
  const reportBacklog = () => sinks.metrics.backlog(sub.id, deleted ? null : queuedCount(state));

  const queueEvents = (events: HooklineEvent[]) => {
    const result = enqueue(state, events, Date.now());
    arrivals++;
    // The Web UI's "current details" (served by a built-in query, not recorded: replay-safe).
    setCurrentDetails(currentDetails(sub.status, state));
    reportBacklog();
    return result;
  };
  setHandler(eventsSignal, (req) => void queueEvents(req.events));
  setHandler(enqueueUpdate, (req) => queueEvents(req.events), {
    validator: (req: EnqueueRequest) => {
      if (deleted) throw ApplicationFailure.nonRetryable('subscription deleted', 'Deleted');
      const full = capacityError(state, limits, req.events);
      if (full) throw ApplicationFailure.nonRetryable(full, 'BacklogFull');
    },
  });

  setHandler(
    updateConfigUpdate,
    (patch) => {
      sub = { ...sub, ...patch.changes, version: sub.version + 1, updatedAt: patch.at };
      // Bounded: a value over Temporal's size limit would get this workflow terminated, queue and all.
      if (patch.changes.eventTypes)
        index([{ key: SA.eventTypes, value: boundedKeywordList(sub.eventTypes) }]);
      if (patch.changes.url) {
        index([
          { key: SA.targetUrl, value: boundedKeyword(sub.url) },
          { key: SA.targetHost, value: boundedKeyword(new URL(sub.url).host) },
        ]);
      }
      control++;
      return sub;
    },
    {
      validator: (patch: ConfigPatch) => {
        if (deleted) throw ApplicationFailure.nonRetryable('subscription deleted', 'Deleted');
        if (patch.expectedVersion !== undefined && patch.expectedVersion !== sub.version) {
          throw ApplicationFailure.nonRetryable(`version is ${sub.version}`, 'VersionMismatch');
        }
      },
    },
  );

  setHandler(
    setStatusUpdate,
    ({ status, at }) => {
      // Resume also re-enables a subscription disabled by 410 Gone; pending validation stays pending.
      if (sub.status !== 'pending_validation') setStatus(status, at);
      control++;
      return sub;
    },
    {
      validator: (_change) => {
        if (deleted) throw ApplicationFailure.nonRetryable('subscription deleted', 'Deleted');
      },
    },
  );

  setHandler(activateUpdate, ({ at }) => {
    if (sub.status === 'pending_validation') setStatus('active', at);
    control++;
    return sub;
  });

  setHandler(rotateSecretUpdate, ({ secret, at }) => {
    secrets = rotateSecrets(secrets, new Date(at), secret);
    return { secret };
  });

  const redeliver = (req: Parameters<typeof requeue>[1]) => {
    const requeued = requeue(state, req, Date.now());
    control++;
    return { requeued };
  };
  setHandler(redeliverUpdate, redeliver);
  setHandler(redeliverSignal, (req) => void redeliver(req ?? {}));

  setHandler(deleteSignal, () => {
    deleted = true;
  });
  setHandler(deleteUpdate, () => {
    deleted = true;
  });

  // A deleted subscription answers no more queries, although its run may still finish an attempt.
  setHandler(subscriptionQuery, () => {
    if (deleted) throw ApplicationFailure.nonRetryable('subscription deleted', 'Deleted');
    return sub;
  });
  setHandler(secretsQuery, () => secrets);
  setHandler(queueQuery, () => queueView(state));
  setHandler(deliveriesQuery, (limit) => state.recent.slice(-(limit ?? 50)).reverse());
  setHandler(entryStatusQuery, (eventId) => entryStatus(state, eventId));
  setHandler(deadLettersQuery, () => state.dead);

  async function attemptDelivery(): Promise<void> {
    const batch = startAttempt(state, Date.now());
    const startedAt = Date.now();
    attempting = true;
    let outcome: AttemptOutcome;
    let gone = false;
    try {
      const res = await deliver.executeWithOptions(
        {
          startToCloseTimeout: '30 seconds',
          retry: { maximumAttempts: 1 },
          summary: `${batch.msgId} · ${batch.entries.length} events · attempt ${batch.attempts}`,
        },
        [
          {
            subscription: sub,
            secrets,
            msgId: batch.msgId,
            attempt: batch.attempts,
            events: batch.entries.map((e) => e.event),
          },
        ],
      );
      outcome = {
        ok: true,
        statusCode: res.statusCode,
        error: null,
        errorClass: null,
        durationMs: res.durationMs,
        retryAfterMs: null,
      };
    } catch (err) {
      ({ outcome, gone } = outcomeFromFailure(err));
    } finally {
      attempting = false;
    }
    if (finishAttempt(state, outcome, startedAt, Date.now()) === 'dead') {
      sinks.metrics.deadLettered(batch.entries.length);
    }
    if (gone) setStatus('disabled', nowIso());
  }

  // The CloudEvents handshake, as a child. Events queue meanwhile; nothing is sent until it is granted.
  // No continue-as-new while it runs (at most 5 minutes): the child's result belongs to this run.
  let validating = false;
  if (sub.status === 'pending_validation' && input.validation) {
    validating = true;
    executeChild<(v: unknown) => Promise<ValidationResult>>('validationWorkflow', {
      workflowId: validationWorkflowId(sub.id),
      args: [{ ...input.validation, subscriptionId: sub.id, url: sub.url }],
      parentClosePolicy: ParentClosePolicy.TERMINATE,
    })
      .then((result) => {
        if (result === 'expired') {
          // Not confirmed in time: the registration is deleted and its URL freed.
          getExternalWorkflowHandle(tenantWorkflowId(sub.tenant))
            .signal(unregisterSignal, { id: sub.id })
            .catch(() => undefined);
          deleted = true;
        } else {
          setStatus('active', nowIso());
        }
      })
      .catch(() => {
        deleted = true;
      })
      .finally(() => {
        validating = false;
        control++;
      });
  }

  while (!deleted) {
    // Every handler is synchronous, but an update's completion reaches history a few microtasks after its
    // handler returns. Commands this loop issues (schedule a delivery, start a timer) must follow it, or
    // their order would depend on whether the run was cached and the history would not replay.
    if (!allHandlersFinished()) await condition(allHandlersFinished);
    reportBacklog();
    // Dead letters are kept 7 days (workflow time); continue-as-new below never carries an expired one.
    purgeExpiredDeadLetters(state, Date.now());
    setCurrentDetails(currentDetails(sub.status, state));
    if (workflowInfo().continueAsNewSuggested && !attempting && !validating) {
      // continueAsNew is like process.exit: no handler may still be running.
      await condition(allHandlersFinished);
      await continueAsNew<typeof subscriberWorkflow>({
        subscription: sub,
        secrets: pruneSecrets(secrets, new Date()),
        limits,
        state,
      });
    }
    const sending = sub.status === 'active';
    if (sending && !state.inFlight && state.pending.length > 0) {
      cutBatch(state, sub.maxBatchSize, `msg_${uuid4().replace(/-/g, '')}`, Date.now());
    }
    const [seenControl, seenArrivals] = [control, arrivals];
    const controlChanged = () => deleted || control !== seenControl || workflowInfo().continueAsNewSuggested;
    if (sending && state.inFlight) {
      const wait = nextAttemptTime(state, sub.rateLimitPerSecond) - Date.now();
      const batch = state.inFlight;
      // Timer summaries show in the Web UI; they are metadata, not part of what replay compares.
      const summary =
        batch.attempts > 0
          ? `back-off: attempt ${batch.attempts + 1} of ${batch.msgId} after ${batch.lastStatusCode ?? 'error'}`
          : `rate limit: ${batch.msgId}`;
      if (wait <= 0) await attemptDelivery();
      else await condition(controlChanged, wait, { summary });
    } else {
      const woken = () => controlChanged() || arrivals !== seenArrivals;
      const expiry = nextDeadLetterExpiry(state);
      // Idle with dead letters: wake when the oldest expires. Added after the first recorded histories;
      // the patch marker is only written once a run holds dead letters, so other histories are unchanged.
      if (expiry !== null && patched('dead-letter-expiry')) {
        await condition(woken, Math.max(1, expiry - Date.now()), { summary: 'dead letters expire' });
      } else {
        await condition(woken);
      }
    }
  }
  await condition(allHandlersFinished);
  sinks.metrics.backlog(sub.id, null);
}
