/**
 * The pieces every path of the OpenAPI document is made of: the component schemas (converted from
 * the zod schemas), the shared error answers, and `operation()`, which turns an OperationSpec into an
 * OpenAPI operation object.
 */
import { z } from 'zod';
import { ErrorBody, HealthOut, ReadinessOut } from '../schemas/common';
import { EventBatchIn, EventIn, EventOut, PublishIn, PublishOut, StoredEvent } from '../schemas/event';
import { EventTypeCreate, EventTypeListOut, EventTypeOut, EventTypePatch } from '../schemas/event-type';
import {
  SecretOut,
  SubscriptionCreate,
  SubscriptionListOut,
  SubscriptionOut,
  SubscriptionPatch,
} from '../schemas/subscription';
import {
  DeadLettersOut,
  DeliveriesOut,
  EntryStatusOut,
  QueueOut,
  RedeliverIn,
  RedeliverOut,
} from '../schemas/delivery';
import { HandshakeCallbackOut } from '../schemas/handshake';
import { PortalSessionCreate, PortalSessionOut } from '../schemas/portal';
import {
  KeyCreate,
  KeyCreatedOut,
  KeyListOut,
  KeyOut,
  TenantCreate,
  TenantListOut,
  TenantOut,
  TenantPatch,
  UsageOut,
} from '../schemas/tenant';

export type JsonObject = { [key: string]: unknown };

/** Request schemas by component name; converted with `io: 'input'`. */
export const REQUEST_SCHEMAS = {
  SubscriptionCreate,
  SubscriptionPatch,
  RedeliverRequest: RedeliverIn,
  EventIn,
  EventBatch: EventBatchIn,
  PublishRequest: PublishIn,
  TenantCreate,
  TenantPatch,
  KeyCreate,
  EventTypeCreate,
  EventTypePatch,
  PortalSessionCreate,
} satisfies Record<string, z.ZodType>;

/** Answer schemas by component name; converted with `io: 'output'`. */
export const RESPONSE_SCHEMAS = {
  Error: ErrorBody,
  Subscription: SubscriptionOut,
  SubscriptionList: SubscriptionListOut,
  Secret: SecretOut,
  Queue: QueueOut,
  Deliveries: DeliveriesOut,
  EntryStatus: EntryStatusOut,
  DeadLetters: DeadLettersOut,
  RedeliverResult: RedeliverOut,
  StoredEvent,
  Event: EventOut,
  PublishResult: PublishOut,
  HandshakeResult: HandshakeCallbackOut,
  Health: HealthOut,
  Readiness: ReadinessOut,
  Tenant: TenantOut,
  TenantList: TenantListOut,
  ApiKey: KeyOut,
  ApiKeyCreated: KeyCreatedOut,
  ApiKeyList: KeyListOut,
  Usage: UsageOut,
  EventType: EventTypeOut,
  EventTypeList: EventTypeListOut,
  PortalSession: PortalSessionOut,
} satisfies Record<string, z.ZodType>;

type RequestName = keyof typeof REQUEST_SCHEMAS;
type ResponseName = keyof typeof RESPONSE_SCHEMAS;

export const ref = (name: RequestName | ResponseName) => ({ $ref: `#/components/schemas/${name}` });

/** The JSON Schemas of one registry, `$ref`s between its members pointing into components. */
export function componentSchemas(
  schemas: Record<string, z.ZodType>,
  io: 'input' | 'output',
): Record<string, JsonObject> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(schemas)) registry.add(schema, { id });
  const converted = z.toJSONSchema(registry, { io, uri: (id) => `#/components/schemas/${id}` });
  const out: Record<string, JsonObject> = {};
  for (const [id, schema] of Object.entries(converted.schemas)) out[id] = withoutIdentity(schema);
  return out;
}

/**
 * Drops `$schema` (the document's dialect applies) and `$id`: zod sets `$id` to the component's
 * fragment URI, and 2020-12 forbids a non-empty fragment in `$id`.
 */
function withoutIdentity(schema: object): JsonObject {
  const { $schema: _schema, $id: _id, ...rest } = schema as JsonObject;
  return rest;
}

/** One JSON Schema, inlined (for parameters). */
export function inputSchema(schema: z.ZodType): JsonObject {
  return withoutIdentity(z.toJSONSchema(schema, { io: 'input' }));
}

/** Query parameters from a query object schema: one parameter per member. */
export function queryParameters(schema: z.ZodType): JsonObject[] {
  const json = inputSchema(schema) as { properties?: Record<string, JsonObject>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: 'query',
      required: json.required?.includes(name) ?? false,
      ...(typeof description === 'string' ? { description } : {}),
      schema: rest,
    };
  });
}

// ---- Shared responses ----

type ErrorResponse = 400 | 401 | 403 | 404 | 409 | 412 | 413 | 415 | 429 | 500 | 503;

const ERROR_RESPONSES: Record<ErrorResponse, { name: string; description: string; retryAfter?: true }> = {
  400: {
    name: 'ValidationFailed',
    description:
      '`validation_failed`: details name each problem by path. Also malformed input of any kind: bad JSON, a body that is not what its Content-Encoding says, a bad percent-escape in the path.',
  },
  401: { name: 'Unauthorized', description: '`unauthorized`: missing or unknown API key.' },
  403: { name: 'Forbidden', description: '`forbidden`.' },
  404: { name: 'NotFound', description: '`not_found` (also for resources of other tenants).' },
  409: { name: 'Conflict', description: '`conflict`.' },
  412: {
    name: 'PreconditionFailed',
    description: '`precondition_failed`: `If-Match` names a stale version.',
  },
  413: {
    name: 'PayloadTooLarge',
    description: '`payload_too_large`: body over 1 MiB, or an event `data` over 256 KiB.',
  },
  415: {
    name: 'UnsupportedMediaType',
    description:
      '`unsupported_media_type`: the body must be UTF-8 JSON, sent as is or with Content-Encoding gzip, deflate or br.',
  },
  429: {
    name: 'QuotaExceeded',
    description:
      '`quota_exceeded`: the publish would take the tenant over its `eventsPerMonth`; nothing of it was stored. `Retry-After`: seconds until the first day of the next month, 00:00 UTC.',
    retryAfter: true,
  },
  500: { name: 'Internal', description: '`internal`.' },
  503: {
    name: 'BacklogFull',
    description:
      '`backlog_full`: a matching subscription cannot take more events now; retry after `Retry-After`.',
    retryAfter: true,
  },
};

export function errorResponseComponents(): Record<string, JsonObject> {
  const out: Record<string, JsonObject> = {};
  for (const { name, description, retryAfter } of Object.values(ERROR_RESPONSES)) {
    out[name] = {
      description,
      ...(retryAfter ? { headers: { 'Retry-After': { $ref: '#/components/headers/RetryAfter' } } } : {}),
      content: { 'application/json': { schema: ref('Error') } },
    };
  }
  return out;
}

// ---- Operations ----

export interface Success {
  status: 200 | 201 | 202 | 204 | 503;
  description: string;
  /** JSON body; absent for 204 or a non-JSON body given by `content`. */
  schema?: ResponseName;
  content?: JsonObject;
  headers?: JsonObject;
}

export interface OperationSpec {
  operationId: string;
  summary: string;
  tag:
    | 'Subscriptions'
    | 'Events'
    | 'Event types'
    | 'Keys'
    | 'Usage'
    | 'Portal'
    | 'Tenants'
    | 'Handshake'
    | 'Operations';
  /** Bearer API key required (the default); `operator`: an operator key (ADMIN_API_KEYS) instead. */
  auth?: boolean | 'operator';
  parameters?: JsonObject[];
  body?: { schema: RequestName; required: boolean; description?: string };
  responses: Success[];
  errors: ErrorResponse[];
  description?: string;
}

export function operation(spec: OperationSpec): JsonObject {
  const responses: Record<string, JsonObject> = {};
  for (const success of spec.responses) {
    responses[String(success.status)] = {
      description: success.description,
      ...(success.headers ? { headers: success.headers } : {}),
      ...(success.schema
        ? { content: { 'application/json': { schema: ref(success.schema) } } }
        : success.content
          ? { content: success.content }
          : {}),
    };
  }
  const errors = spec.auth === false ? spec.errors : [401 as const, ...spec.errors];
  for (const status of [...new Set([...errors, 500 as const])].sort((a, b) => a - b)) {
    responses[String(status)] = { $ref: `#/components/responses/${ERROR_RESPONSES[status].name}` };
  }
  return {
    operationId: spec.operationId,
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    tags: [spec.tag],
    ...(spec.auth === false ? { security: [] } : {}),
    ...(spec.auth === 'operator' ? { security: [{ operatorAuth: [] }] } : {}),
    ...(spec.parameters?.length ? { parameters: spec.parameters } : {}),
    ...(spec.body
      ? {
          requestBody: {
            required: spec.body.required,
            ...(spec.body.description ? { description: spec.body.description } : {}),
            content: { 'application/json': { schema: ref(spec.body.schema) } },
          },
        }
      : {}),
    responses,
  };
}

export const subscriptionIdParam = { $ref: '#/components/parameters/SubscriptionId' };
export const eventIdParam = { $ref: '#/components/parameters/EventId' };
export const queueEventIdParam = { $ref: '#/components/parameters/EventIdInQueue' };
export const ifMatchParam = { $ref: '#/components/parameters/IfMatch' };
/** POSTs without a meaningful body still read one through jsonBody(): these can answer 415/413/400. */
export const BODYLESS_POST_ERRORS: ErrorResponse[] = [400, 404, 413, 415];
