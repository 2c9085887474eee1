/**
 * One long-running workflow per tenant, `hookline-ingress-<tenant>`. It is the registry of the tenant's
 * subscriptions (URL uniqueness is enforced here, atomically, because updates to one workflow run one
 * at a time) and the routing table the publisher reads. It starts each subscriber workflow as a child
 * (abandoned on close, so subscribers outlive the tenant's runs). Its `publish` signal is the ingress
 * of Temporal-native producers: events are handed to the shared publish module by an activity, in
 * order, retried while a subscriber's backlog is full.
 */
import {
  ApplicationFailure,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
  startChild,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { SA, boundedKeyword, boundedKeywordList } from '../temporal/search-attributes';
import {
  changeUrlUpdate,
  entryChangedSignal,
  listQuery,
  lookupUrlQuery,
  publishSignal,
  registerUpdate,
  rejectedPublishesQuery,
  routesQuery,
  unregisterSignal,
  unregisterUpdate,
  type RegisterRequest,
  type RegistryEntry,
  type RejectedPublish,
  type TenantInput,
} from './messages';
import { findByUrl, listPage } from './registry';
import { subscriberWorkflowId } from './ids';
import { subscriberWorkflow } from './subscriber';

const { publishEvents } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  // A full backlog or a missing worker: try again, slower and slower, for as long as it takes.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/** The URL belongs to another subscription; its id travels in details[0] (the API's 409). */
function urlTaken(existingId: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: 'UrlTaken',
    message: 'a subscription with this url exists',
    nonRetryable: true,
    details: [existingId],
  });
}

/** A one-line summary for the Web UI, at most 400 characters. */
function summary(text: string): string {
  return text.length > 400 ? `${text.slice(0, 399)}…` : text;
}

/** Rejected publish signals remembered for the rejectedPublishes query. */
const MAX_REJECTED = 50;

export async function tenantWorkflow(input: TenantInput): Promise<void> {
  const entries: RegistryEntry[] = input.entries ?? [];
  const inbox: unknown[][] = input.inbox ?? [];
  const rejected: RejectedPublish[] = [];
  let version = input.version ?? 0;
  const changed = () => {
    version++;
  };

  const unregister = (id: string) => {
    const at = entries.findIndex((e) => e.id === id);
    if (at < 0) return false;
    entries.splice(at, 1);
    changed();
    return true;
  };
  setHandler(
    registerUpdate,
    async (req) => {
      const sub = req.subscription;
      // Reserve the URL before the first await: the next registration's validator must see it.
      const entry: RegistryEntry = {
        id: sub.id,
        url: sub.url,
        eventTypes: sub.eventTypes,
        subject: sub.subject,
        categories: sub.categories,
        labels: sub.labels,
        status: sub.status,
        createdAt: sub.createdAt,
      };
      entries.push(entry);
      changed();
      try {
        await startChild(subscriberWorkflow, {
          workflowId: subscriberWorkflowId(sub.id),
          taskQueue: req.taskQueue,
          args: [
            {
              subscription: sub,
              secrets: [{ secret: req.secret, expiresAt: null }],
              limits: req.limits,
              validation: req.validation,
            },
          ],
          parentClosePolicy: ParentClosePolicy.ABANDON,
          typedSearchAttributes:
            input.indexed === false
              ? undefined
              : [
                  { key: SA.subscriptionId, value: sub.id },
                  { key: SA.tenant, value: sub.tenant },
                  // Bounded: a value over Temporal's size limit would get this workflow terminated.
                  { key: SA.targetHost, value: boundedKeyword(new URL(sub.url).host) },
                  { key: SA.targetUrl, value: boundedKeyword(sub.url) },
                  { key: SA.eventTypes, value: boundedKeywordList(sub.eventTypes) },
                  { key: SA.status, value: sub.status },
                ],
          staticSummary: summary(`${sub.url} · ${sub.eventTypes.join(', ')}`),
        });
      } catch (err) {
        unregister(sub.id);
        throw err;
      }
      return sub;
    },
    {
      validator: (req: RegisterRequest) => {
        const taken = findByUrl(entries, req.subscription.url);
        if (taken) throw urlTaken(taken.id);
        if (entries.length >= input.maxSubscriptions) {
          throw ApplicationFailure.nonRetryable(
            `at most ${input.maxSubscriptions} subscriptions per tenant`,
            'TooManySubscriptions',
          );
        }
      },
    },
  );

  setHandler(unregisterUpdate, ({ id }) => ({ removed: unregister(id) }));
  setHandler(unregisterSignal, ({ id }) => void unregister(id));

  setHandler(
    changeUrlUpdate,
    ({ id, url }) => {
      const entry = entries.find((e) => e.id === id);
      if (entry) entry.url = url;
      changed();
    },
    {
      validator: ({ id, url }: { id: string; url: string }) => {
        const taken = findByUrl(entries, url);
        if (taken && taken.id !== id) throw urlTaken(taken.id);
      },
    },
  );

  setHandler(entryChangedSignal, ({ id, changes }) => {
    const entry = entries.find((e) => e.id === id);
    if (!entry) return;
    Object.assign(entry, changes);
    changed();
  });

  setHandler(routesQuery, () => ({ version, entries }));
  setHandler(listQuery, (req) => listPage(entries, req));
  setHandler(lookupUrlQuery, (url) => findByUrl(entries, url)?.id ?? null);
  setHandler(rejectedPublishesQuery, () => rejected);

  setHandler(publishSignal, (req) => {
    const events = Array.isArray(req?.events) ? req.events : null;
    if (!events || events.length === 0) {
      rejected.push({ at: new Date().toISOString(), reason: 'expected {"events": [...]}', events: 0 });
      if (rejected.length > MAX_REJECTED) rejected.shift();
      return;
    }
    inbox.push(events);
  });

  for (;;) {
    await condition(() => inbox.length > 0 || workflowInfo().continueAsNewSuggested);
    if (workflowInfo().continueAsNewSuggested) {
      // continueAsNew is like process.exit: no handler (a registration starting its child) may still run.
      await condition(allHandlersFinished);
      await continueAsNew<typeof tenantWorkflow>({ ...input, entries, inbox, version });
    }
    // In order, one signal's events at a time; the activity retries until every subscriber took them.
    const batch = inbox[0]!;
    // Ids for events sent without one come from this key, fixed here so the activity's retries reuse
    // them (a retry after a partial success must not queue the events again under new ids).
    const idKey = uuid4().replace(/-/g, '').slice(0, 24);
    const result = await publishEvents(input.tenant, batch, idKey);
    inbox.shift();
    if (result.rejected) {
      rejected.push({ at: new Date().toISOString(), reason: result.rejected, events: batch.length });
      if (rejected.length > MAX_REJECTED) rejected.shift();
    }
  }
}
