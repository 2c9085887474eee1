import { randomUUID } from 'node:crypto';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { HooklineEvent, Subscription } from '../../src/domain/types';
import { SA } from '../../src/temporal/search-attributes';
import { enqueueUpdate, type BacklogLimits, type EnqueueResult } from '../../src/workflows/messages';
import { subscriberWorkflow, subscriberWorkflowId } from '../../src/workflows/subscriber';

export const TEST_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

export function makeSubscription(overrides: Partial<Subscription> = {}): Subscription {
  const now = new Date().toISOString();
  return {
    id: `sub_${randomUUID().replace(/-/g, '')}`,
    tenant: 'test',
    url: 'http://127.0.0.1:1/hooks',
    name: null,
    eventTypes: ['*'],
    subject: null,
    categories: null,
    labels: null,
    format: 'raw',
    status: 'active',
    requireValidation: false,
    maxBatchSize: 100,
    headers: {},
    rateLimitPerSecond: null,
    description: null,
    metadata: {},
    version: 1,
    createdAt: now,
    updatedAt: now,
    ...overrides,
  };
}

export function makeEvents(n: number, prefix = 'evt'): HooklineEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${prefix}-${String(i).padStart(6, '0')}`,
    type: 'order.created',
    source: 'test',
    subject: `orders/${i}`,
    category: null,
    labels: {},
    time: new Date().toISOString(),
    data: { n: i },
  }));
}

export const DEFAULT_TEST_LIMITS: BacklogLimits = { maxEvents: 20_000, maxBytes: 1_000_000 };

export async function startSubscriber(
  client: Client,
  taskQueue: string,
  subscription: Subscription,
  options: { limits?: BacklogLimits; timeSkipping?: boolean } = {},
): Promise<WorkflowHandle<typeof subscriberWorkflow>> {
  const { limits = DEFAULT_TEST_LIMITS, timeSkipping = false } = options;
  return client.workflow.start(subscriberWorkflow, {
    taskQueue,
    // The time-skipping server otherwise ends workflows after a default timeout; ours run for weeks.
    workflowExecutionTimeout: timeSkipping ? '365 days' : undefined,
    workflowId: subscriberWorkflowId(subscription.id),
    args: [{ subscription, secrets: [{ secret: TEST_SECRET, expiresAt: null }], limits }],
    // The time-skipping server has no custom search attributes.
    typedSearchAttributes: !timeSkipping
      ? [
          { key: SA.subscriptionId, value: subscription.id },
          { key: SA.tenant, value: subscription.tenant },
          { key: SA.status, value: subscription.status },
        ]
      : undefined,
  });
}

/** Queues events in chunks, one update at a time (so in order). */
export async function enqueueAll(
  handle: WorkflowHandle,
  events: HooklineEvent[],
  chunk = 100,
): Promise<EnqueueResult[]> {
  const results: EnqueueResult[] = [];
  for (let i = 0; i < events.length; i += chunk) {
    results.push(
      await handle.executeUpdate(enqueueUpdate, { args: [{ events: events.slice(i, i + chunk) }] }),
    );
  }
  return results;
}
