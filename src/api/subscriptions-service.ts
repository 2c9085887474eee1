/**
 * What the subscription routes do, against Temporal: the tenant registry (uniqueness, listing) and
 * each subscription's workflow (settings, queue, secrets). Another tenant's subscription is "not found".
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  QueryNotRegisteredError,
  QueryRejectedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WithStartWorkflowOperation,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Config } from '../config';
import { generateSecret } from '../delivery/signing';
import type { Subscription } from '../domain/types';
import { TargetForbiddenError, TargetResolutionError, type TargetGuard } from '../net/ssrf';
import { normalizeTargetUrl, TargetUrlError } from '../net/url';
import type { Publisher } from '../publish/publisher';
import { subscriberWorkflowId, tenantWorkflowId } from '../workflows/ids';
import {
  changeUrlUpdate,
  deadLettersQuery,
  deleteUpdate,
  deliveriesQuery,
  entryChangedSignal,
  entryStatusQuery,
  listQuery,
  lookupUrlQuery,
  queueQuery,
  redeliverUpdate,
  registerUpdate,
  rotateSecretUpdate,
  secretsQuery,
  setStatusUpdate,
  subscriptionQuery,
  unregisterUpdate,
  updateConfigUpdate,
  type ConfigPatch,
  type EventRecord,
  type ListRequest,
  type RedeliverRequest,
  type TenantInput,
} from '../workflows/messages';
import type { tenantWorkflow } from '../workflows/tenant';
import { HttpError } from './errors';

export type SubscriptionInput = Pick<
  Subscription,
  | 'url'
  | 'eventTypes'
  | 'format'
  | 'requireValidation'
  | 'maxBatchSize'
  | 'headers'
  | 'rateLimitPerSecond'
  | 'description'
  | 'metadata'
> &
  Partial<Pick<Subscription, 'subject' | 'categories' | 'labels'>>;

export interface SubscriptionServiceDeps {
  client: Client;
  config: Config;
  guard: TargetGuard;
  publisher: Publisher;
}

/** 32 alphanumerics for the validation callback. */
function validationCode(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(64);
  let code = '';
  // Rejection sampling keeps the alphabet uniform (248 = 4 * 62).
  for (const b of bytes) if (b < 248 && code.length < 32) code += alphabet[b % 62];
  return code.length === 32 ? code : validationCode();
}

/**
 * A query refused by a subscription that was deleted but whose run has not ended yet (a failing query
 * handler reaches the client as INVALID_ARGUMENT, which the SDK names QueryNotRegisteredError).
 */
function isDeletedQuery(err: unknown): boolean {
  return err instanceof QueryNotRegisteredError && /subscription deleted/.test(err.message);
}

/** The registry's UrlTaken failure as the API's 409, with the existing subscription's id. */
function urlConflict(failure: ApplicationFailure): HttpError {
  const existing = typeof failure.details?.[0] === 'string' ? failure.details[0] : '';
  return HttpError.conflict('a subscription with this url exists', [{ id: existing }]);
}

function failureOf(err: unknown): ApplicationFailure | null {
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) return err.cause;
  return null;
}

export class SubscriptionService {
  constructor(private readonly deps: SubscriptionServiceDeps) {}

  private tenantHandle(tenant: string): WorkflowHandle<typeof tenantWorkflow> {
    return this.deps.client.workflow.getHandle(tenantWorkflowId(tenant));
  }

  /** How a tenant's registry workflow is started: at most once (an existing one is used as it is). */
  private tenantStart(tenant: string) {
    return {
      workflowId: tenantWorkflowId(tenant),
      taskQueue: this.deps.config.temporal.taskQueue,
      args: [{ tenant, maxSubscriptions: this.deps.config.maxSubscriptionsPerTenant }] as [TenantInput],
      workflowIdConflictPolicy: 'USE_EXISTING' as const,
      staticSummary: `Hookline registry and ingress of tenant ${tenant}`,
    };
  }

  /** The tenant's registry workflow, started on first use (and by the service at start-up). */
  async ensureTenant(tenant: string): Promise<void> {
    await this.deps.client.workflow.start('tenantWorkflow', this.tenantStart(tenant));
  }

  /** Refuses targets in forbidden networks (after DNS), with the reason in a 400. */
  async checkTarget(url: string): Promise<string> {
    let normalized: string;
    try {
      normalized = normalizeTargetUrl(url);
      await this.deps.guard.checkUrl(normalized);
    } catch (err) {
      if (
        err instanceof TargetForbiddenError ||
        err instanceof TargetUrlError ||
        err instanceof TargetResolutionError
      ) {
        throw HttpError.badRequest('the url is not an allowed delivery target', [
          { path: 'url', message: err.message },
        ]);
      }
      throw err;
    }
    return normalized;
  }

  async create(
    tenant: string,
    input: SubscriptionInput,
  ): Promise<{ subscription: Subscription; secret: string }> {
    const url = await this.checkTarget(input.url);
    const now = new Date().toISOString();
    const id = `sub_${randomUUID().replace(/-/g, '')}`;
    const subscription: Subscription = {
      id,
      tenant,
      url,
      name: null,
      eventTypes: input.eventTypes,
      subject: input.subject ?? null,
      categories: input.categories ?? null,
      labels: input.labels ?? null,
      format: input.format,
      status: input.requireValidation ? 'pending_validation' : 'active',
      requireValidation: input.requireValidation,
      maxBatchSize: input.maxBatchSize,
      headers: input.headers,
      rateLimitPerSecond: input.rateLimitPerSecond,
      description: input.description,
      metadata: input.metadata,
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
    const secret = generateSecret();
    const { config } = this.deps;
    const origin = new URL(config.publicBaseUrl).host;
    const code = validationCode();
    try {
      const created = await this.deps.client.workflow.executeUpdateWithStart(registerUpdate, {
        args: [
          {
            subscription,
            secret,
            limits: config.backlog,
            taskQueue: config.temporal.taskQueue,
            validation: input.requireValidation
              ? { origin, code, callbackUrl: `${config.publicBaseUrl}/v1/validate/${id}?code=${code}` }
              : undefined,
          },
        ],
        startWorkflowOperation: new WithStartWorkflowOperation('tenantWorkflow', this.tenantStart(tenant)),
      });
      this.deps.publisher.invalidate(tenant);
      return { subscription: created, secret };
    } catch (err) {
      const failure = failureOf(err);
      if (failure?.type === 'UrlTaken') throw urlConflict(failure);
      if (failure?.type === 'TooManySubscriptions') throw HttpError.conflict(failure.message);
      throw err;
    }
  }

  /** The subscription's workflow handle, after checking it exists, runs, and belongs to `tenant`. */
  private async owned(
    tenant: string,
    id: string,
  ): Promise<{ handle: WorkflowHandle; subscription: Subscription }> {
    if (!/^sub_[0-9a-f]{32}$/.test(id)) throw HttpError.notFound('subscription');
    const handle = this.deps.client.workflow.getHandle(subscriberWorkflowId(id));
    try {
      const subscription = await handle.query(subscriptionQuery);
      if (subscription.tenant !== tenant) throw HttpError.notFound('subscription');
      return { handle, subscription };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError || err instanceof QueryRejectedError || isDeletedQuery(err)) {
        throw HttpError.notFound('subscription');
      }
      throw err;
    }
  }

  async get(tenant: string, id: string): Promise<Subscription> {
    return (await this.owned(tenant, id)).subscription;
  }

  async list(tenant: string, req: ListRequest): Promise<{ data: Subscription[]; nextCursor: string | null }> {
    let page: { ids: string[]; nextCursor: string | null };
    try {
      const url = req.url ? normalizeTargetUrl(req.url) : undefined;
      page = await this.tenantHandle(tenant).query(listQuery, { ...req, url });
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return { data: [], nextCursor: null };
      if (err instanceof TargetUrlError) return { data: [], nextCursor: null };
      throw err;
    }
    // A subscription deleted between the page and its read is left out.
    const data = await Promise.all(
      page.ids.map((id) =>
        this.get(tenant, id).catch((err: unknown) => {
          if (err instanceof HttpError) return null;
          throw err;
        }),
      ),
    );
    return { data: data.filter((s): s is Subscription => s !== null), nextCursor: page.nextCursor };
  }

  async patch(
    tenant: string,
    id: string,
    changes: ConfigPatch['changes'],
    expectedVersion: number | undefined,
  ): Promise<Subscription> {
    const { handle, subscription } = await this.owned(tenant, id);
    if (expectedVersion !== undefined && expectedVersion !== subscription.version) {
      throw HttpError.preconditionFailed(`the subscription is at version ${subscription.version}`);
    }
    const next = { ...changes };
    if (changes.url !== undefined) {
      next.url = await this.checkTarget(changes.url);
      if (next.url !== subscription.url) {
        try {
          const tenantHandle = this.tenantHandle(tenant);
          await onLiveRun(tenantHandle, () =>
            tenantHandle.executeUpdate(changeUrlUpdate, { args: [{ id, url: next.url! }] }),
          );
        } catch (err) {
          const failure = failureOf(err);
          if (failure?.type === 'UrlTaken') throw urlConflict(failure);
          throw err;
        }
      }
    }
    let updated: Subscription;
    try {
      updated = await onLiveRun(handle, () =>
        handle.executeUpdate(updateConfigUpdate, {
          args: [{ expectedVersion, changes: next, at: new Date().toISOString() }],
        }),
      );
    } catch (err) {
      if (next.url !== undefined && next.url !== subscription.url) {
        // Give the new URL back: the change did not happen.
        await this.tenantHandle(tenant).executeUpdate(changeUrlUpdate, {
          args: [{ id, url: subscription.url }],
        });
      }
      if (failureOf(err)?.type === 'VersionMismatch')
        throw HttpError.preconditionFailed(failureOf(err)!.message);
      if (failureOf(err)?.type === 'Deleted') throw HttpError.notFound('subscription');
      throw err;
    }
    await this.tenantHandle(tenant).signal(entryChangedSignal, {
      id,
      changes: {
        eventTypes: updated.eventTypes,
        subject: updated.subject,
        categories: updated.categories,
        labels: updated.labels,
      },
    });
    this.deps.publisher.invalidate(tenant);
    return updated;
  }

  async remove(tenant: string, id: string): Promise<void> {
    const { handle } = await this.owned(tenant, id);
    await onLiveRun(handle, () => handle.executeUpdate(deleteUpdate));
    const tenantHandle = this.tenantHandle(tenant);
    await onLiveRun(tenantHandle, () => tenantHandle.executeUpdate(unregisterUpdate, { args: [{ id }] }));
    this.deps.publisher.invalidate(tenant);
  }

  async removeByUrl(tenant: string, url: string): Promise<void> {
    let normalized: string;
    try {
      normalized = normalizeTargetUrl(url);
    } catch {
      throw HttpError.notFound('subscription');
    }
    let id: string | null = null;
    try {
      id = await this.tenantHandle(tenant).query(lookupUrlQuery, normalized);
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
    if (!id) throw HttpError.notFound('subscription');
    await this.remove(tenant, id);
  }

  async secret(tenant: string, id: string): Promise<string> {
    const { handle } = await this.owned(tenant, id);
    const secrets = await handle.query(secretsQuery);
    return secrets.find((s) => s.expiresAt === null)!.secret;
  }

  async rotateSecret(tenant: string, id: string): Promise<string> {
    const { handle } = await this.owned(tenant, id);
    const secret = generateSecret();
    await onLiveRun(handle, () =>
      handle.executeUpdate(rotateSecretUpdate, { args: [{ secret, at: new Date().toISOString() }] }),
    );
    return secret;
  }

  async setStatus(tenant: string, id: string, status: 'active' | 'paused'): Promise<Subscription> {
    const { handle } = await this.owned(tenant, id);
    const updated = await onLiveRun(handle, () =>
      handle.executeUpdate(setStatusUpdate, { args: [{ status, at: new Date().toISOString() }] }),
    );
    await this.tenantHandle(tenant).signal(entryChangedSignal, { id, changes: { status: updated.status } });
    return updated;
  }

  async queue(tenant: string, id: string) {
    const { handle } = await this.owned(tenant, id);
    return handle.query(queueQuery);
  }

  async deliveries(tenant: string, id: string, limit: number) {
    const { handle } = await this.owned(tenant, id);
    return handle.query(deliveriesQuery, limit);
  }

  async entry(tenant: string, id: string, eventId: string) {
    const { handle } = await this.owned(tenant, id);
    const status = await handle.query(entryStatusQuery, eventId);
    if (!status) {
      // Not remembered in detail: delivered long ago, if the event's record says it was queued here.
      const record = await this.record(tenant, eventId);
      if (!record?.subscriptionIds.includes(id)) throw HttpError.notFound('event');
      return {
        eventId,
        subscriptionId: id,
        status: 'delivered' as const,
        attempts: null,
        lastStatusCode: null,
        lastError: null,
        lastAttemptAt: null,
        deliveredAt: null,
      };
    }
    return { ...status, subscriptionId: id };
  }

  async deadLetters(tenant: string, id: string) {
    const { handle } = await this.owned(tenant, id);
    return handle.query(deadLettersQuery);
  }

  /** Re-queues dead letters, and re-sends delivered events named by id (from their records). */
  async redeliver(tenant: string, id: string, req: { eventIds?: string[]; since?: string }) {
    const { handle } = await this.owned(tenant, id);
    const request: RedeliverRequest = { ...req };
    if (req.eventIds) {
      const dead = new Set((await handle.query(deadLettersQuery)).map((d) => d.event.id));
      const others = req.eventIds.filter((e) => !dead.has(e));
      const records = await Promise.all(others.map((e) => this.record(tenant, e)));
      request.events = records
        .filter((r): r is EventRecord => !!r && r.subscriptionIds.includes(id))
        .map((r) => r.event);
    }
    return onLiveRun(handle, () => handle.executeUpdate(redeliverUpdate, { args: [request] }));
  }

  /** An event's record, or null when it does not exist (never published, or purged by retention). */
  record(tenant: string, eventId: string): Promise<EventRecord | null> {
    return this.deps.publisher.records.read(tenant, eventId);
  }

  /** Status of an event in one subscription, for EventGet. */
  async eventStatus(tenant: string, subscriptionId: string, eventId: string): Promise<string> {
    try {
      const handle = this.deps.client.workflow.getHandle(subscriberWorkflowId(subscriptionId));
      const status = await handle.query(entryStatusQuery, eventId);
      return status?.status ?? 'delivered';
    } catch (err) {
      if (err instanceof WorkflowNotFoundError || err instanceof QueryRejectedError) return 'deleted';
      throw err;
    }
  }
}

/**
 * Runs `call`, an update of the workflow behind `handle`, again when the run it reached closed under
 * it: an update not yet accepted when a workflow continues-as-new is aborted ("workflow update was
 * aborted by closing workflow", a WorkflowNotFoundError) although the workflow lives on in its next
 * run. A workflow that is really gone (deleted meanwhile) answers 404.
 */
async function onLiveRun<R>(handle: WorkflowHandle, call: () => Promise<R>): Promise<R> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      const running = await handle.describe().then(
        (d) => d.status.name === 'RUNNING',
        () => false,
      );
      if (!running || attempt >= 3) throw HttpError.notFound('subscription');
    }
  }
}
