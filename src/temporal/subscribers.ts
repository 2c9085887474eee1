/**
 * The service's handle on subscriber workflows: start one, wake one. Wakes are coalesced per
 * subscription (at most one signal in flight each; what arrives meanwhile travels in the next one)
 * and bounded in number, and none sits on a publish's path: the publish answered before. A wake that
 * fails is not lost: the store still owes it, and the reconciler sends it again.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Logger } from '../logger';
import type { Store } from '../store';
import { ingressWorkflowId, subscriberWorkflowId } from '../workflows/ids';
import { wakeSignal, type SubscriberInput, type Wake } from '../workflows/messages';
import { SA, boundedKeyword, boundedKeywordList } from './search-attributes';

export interface SubscribersOptions {
  client: Client;
  store: Store;
  taskQueue: string;
  logger: Logger;
  /** False on a server without Hookline's search attributes (the time-skipping test server). */
  searchAttributes?: boolean;
  /** Most signals and starts in flight at once. */
  concurrency?: number;
  /** Extra options of every start (tests: the time-skipping server's execution timeout). */
  startOptions?: { workflowExecutionTimeout?: string };
}

/** A one-line summary for the Web UI, at most 400 characters. */
function summary(text: string): string {
  return text.length > 400 ? `${text.slice(0, 399)}…` : text;
}

export class Subscribers {
  /** Wakes waiting to be sent, merged per subscription. */
  private readonly waiting = new Map<string, Wake>();
  private readonly sending = new Set<string>();
  private inFlight = 0;
  private readonly concurrency: number;
  private readonly idle: (() => void)[] = [];

  constructor(private readonly opts: SubscribersOptions) {
    this.concurrency = opts.concurrency ?? 32;
  }

  /** Asks the subscriber to look at the store again: new entries up to `headSeq`, or changed settings. */
  wake(subscriptionId: string, wake: Wake): void {
    const merged = this.waiting.get(subscriptionId) ?? {};
    if (wake.headSeq !== undefined) merged.headSeq = Math.max(merged.headSeq ?? 0, wake.headSeq);
    if (wake.changed) merged.changed = true;
    this.waiting.set(subscriptionId, merged);
    this.pump();
  }

  /** Resolves once every wake asked for so far has been sent (or failed). */
  drained(): Promise<void> {
    if (this.waiting.size === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private pump(): void {
    for (const [id, wake] of this.waiting) {
      if (this.inFlight >= this.concurrency) return;
      if (this.sending.has(id)) continue;
      this.waiting.delete(id);
      this.sending.add(id);
      this.inFlight++;
      void this.send(id, wake).finally(() => {
        this.sending.delete(id);
        this.inFlight--;
        this.pump();
        if (this.waiting.size === 0 && this.inFlight === 0) this.idle.splice(0).forEach((r) => r());
      });
    }
  }

  private async send(subscriptionId: string, wake: Wake): Promise<void> {
    try {
      await this.opts.client.workflow
        .getHandle(subscriberWorkflowId(subscriptionId))
        .signal(wakeSignal, wake);
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) {
        this.opts.logger.warn({ err, subscriptionId }, 'wake not sent; the reconciler sends it again');
        return;
      }
      // Gone (terminated, failed, never started): start it again from the store. Deleted, it has
      // nothing left to do: what the store owed it is settled.
      try {
        if (!(await this.start(subscriptionId)))
          await this.opts.store.queues.clearOwedOfDeleted(subscriptionId);
      } catch (startErr) {
        this.opts.logger.warn(
          { err: startErr, subscriptionId },
          'subscriber not started; the reconciler tries again',
        );
      }
    }
  }

  /**
   * Starts the subscription's workflow unless one runs (it then reads everything from the store).
   * Answers false when the subscription does not exist (deleted): nothing is started.
   */
  async start(subscriptionId: string): Promise<boolean> {
    const view = await this.opts.store.subscriptions.forDelivery(subscriptionId, new Date());
    if (!view || view.deleted) return false;
    const sub = view.subscription;
    const input: SubscriberInput = { subscriptionId: sub.id, tenant: sub.tenant };
    await this.opts.client.workflow.start('subscriberWorkflow', {
      workflowId: subscriberWorkflowId(sub.id),
      taskQueue: this.opts.taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      typedSearchAttributes:
        this.opts.searchAttributes === false
          ? undefined
          : [
              { key: SA.subscriptionId, value: sub.id },
              { key: SA.tenant, value: sub.tenant },
              // Bounded: a value over Temporal's size limit would get the workflow terminated.
              { key: SA.targetHost, value: boundedKeyword(new URL(sub.url).host) },
              { key: SA.targetUrl, value: boundedKeyword(sub.url) },
              { key: SA.eventTypes, value: boundedKeywordList(sub.eventTypes) },
              { key: SA.status, value: sub.status },
            ],
      staticSummary: summary(`${sub.url} · ${sub.eventTypes.join(', ')}`),
      ...this.opts.startOptions,
    });
    return true;
  }

  /** Starts the tenant's ingress workflow unless it runs. */
  async startIngress(tenant: string): Promise<void> {
    await this.opts.client.workflow.start('ingressWorkflow', {
      workflowId: ingressWorkflowId(tenant),
      taskQueue: this.opts.taskQueue,
      args: [{ tenant }],
      workflowIdConflictPolicy: 'USE_EXISTING',
      staticSummary: `Hookline ingress of tenant ${tenant}: signal \`publish\` with {"events": [...]}`,
    });
  }
}
