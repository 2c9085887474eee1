/**
 * One long-running workflow per tenant, `hookline-ingress-<tenant>`: the ingress of Temporal-native
 * producers. Its `publish` signal takes `{"events": [...]}` in the REST shape; events are handed to the
 * shared publish module by an activity, one signal's events at a time and in order, retried while a
 * matching subscription's backlog is full.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { publishSignal, rejectedPublishesQuery, type IngressInput, type RejectedPublish } from './messages';

const { publishEvents } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  // A full backlog or a store that does not answer: try again, slower and slower, as long as it takes.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/** Rejected publish signals remembered for the rejectedPublishes query. */
const MAX_REJECTED = 50;
/**
 * Most characters of waiting events carried by continue-as-new. Hazard: the inbox holds producers'
 * payloads (they came in the signal), and continue-as-new input must stay far under Temporal's 2 MB
 * payload limit; with more waiting (a backlog full for long), the run goes on until the inbox drains.
 */
const MAX_CARRIED_CHARS = 512 * 1024;

export async function ingressWorkflow(input: IngressInput): Promise<void> {
  const inbox: unknown[][] = input.inbox ?? [];
  const rejected: RejectedPublish[] = [];
  const reject = (reason: string, events: number) => {
    rejected.push({ at: new Date().toISOString(), reason, events });
    if (rejected.length > MAX_REJECTED) rejected.shift();
  };
  setHandler(rejectedPublishesQuery, () => rejected);
  setHandler(publishSignal, (req) => {
    const events = Array.isArray(req?.events) ? req.events : null;
    if (!events || events.length === 0) reject('expected {"events": [...]}', 0);
    else inbox.push(events);
  });

  for (;;) {
    const rollOver = () =>
      workflowInfo().continueAsNewSuggested && JSON.stringify(inbox).length <= MAX_CARRIED_CHARS;
    await condition(() => inbox.length > 0 || rollOver());
    if (rollOver()) {
      // continueAsNew is like process.exit: no handler may still be running.
      await condition(allHandlersFinished);
      await continueAsNew<typeof ingressWorkflow>({ ...input, inbox });
    }
    const batch = inbox[0]!;
    // Ids for events sent without one come from this key, fixed here so the activity's retries reuse
    // them (a retry after a partial success must not queue the events again under new ids).
    const idKey = uuid4().replace(/-/g, '').slice(0, 24);
    const result = await publishEvents(input.tenant, batch, idKey);
    inbox.shift();
    if (result.rejected) reject(result.rejected, batch.length);
  }
}
