/**
 * The OpenAPI 3.1 document of the REST API (`GET /openapi.json`, rendered at `/docs`), generated from
 * the zod schemas with zod's own `z.toJSONSchema` (operations.ts), path by path (paths.ts,
 * tenant-paths.ts): request bodies and queries in their input form (before defaults and
 * transforms), answers in their output form. Component schemas are JSON Schema 2020-12, the
 * dialect OpenAPI 3.1 uses by default.
 */
import {
  REQUEST_SCHEMAS,
  RESPONSE_SCHEMAS,
  componentSchemas,
  inputSchema,
  errorResponseComponents,
  type JsonObject,
} from './operations';
import { paths } from './paths';
import { EventId, SubscriptionId } from '../schemas/common';
import { IfMatch } from '../schemas/subscription';
import { TenantId } from '../schemas/tenant';

export type { JsonObject };

export interface OpenApiDocument extends JsonObject {
  openapi: string;
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, JsonObject>>;
  components: {
    schemas: Record<string, JsonObject>;
    responses: Record<string, JsonObject>;
    parameters: Record<string, JsonObject>;
    headers: Record<string, JsonObject>;
    securitySchemes: Record<string, JsonObject>;
  };
}

export interface OpenApiOptions {
  /** Hookline's version (info.version). */
  version: string;
  /** Base URL the document names as its server; omitted when absent (relative to the document). */
  serverUrl?: string;
}

/** Builds the whole document. Pure; callers cache it. */
export function buildOpenApiDocument(options: OpenApiOptions): OpenApiDocument {
  const requestSchemas = componentSchemas(REQUEST_SCHEMAS, 'input');
  const responseSchemas = componentSchemas(RESPONSE_SCHEMAS, 'output');
  return {
    openapi: '3.1.0',
    info: {
      title: 'Hookline',
      version: options.version,
      description:
        'Durable webhook delivery: ordered, batched, signed (Standard Webhooks), retried for 7 days. Unknown fields in request bodies are refused with 400.',
    },
    ...(options.serverUrl ? { servers: [{ url: options.serverUrl }] } : {}),
    security: [{ bearerAuth: [] }],
    tags: [
      { name: 'Subscriptions', description: 'Webhook endpoint registrations and their queues.' },
      { name: 'Events', description: 'Publishing events.' },
      { name: 'Event types', description: 'The event-type catalog and its JSON Schemas.' },
      { name: 'Keys', description: "A tenant's own API keys." },
      { name: 'Usage', description: 'Monthly usage and quota.' },
      { name: 'Portal', description: "Links to the consumer portal, a page for a tenant's customers." },
      { name: 'Tenants', description: 'Tenants and their API keys: operator keys only.' },
      { name: 'Handshake', description: 'The callback of the CloudEvents abuse-protection handshake.' },
      { name: 'Operations', description: 'Health, metrics and this document.' },
    ],
    paths: paths(),
    components: {
      schemas: { ...requestSchemas, ...responseSchemas },
      responses: errorResponseComponents(),
      parameters: {
        SubscriptionId: {
          name: 'id',
          in: 'path',
          required: true,
          description: 'A subscription id (`sub_…`).',
          schema: inputSchema(SubscriptionId),
        },
        EventId: {
          name: 'id',
          in: 'path',
          required: true,
          description: 'An event id; percent-encode `/` and other reserved characters.',
          schema: inputSchema(EventId),
        },
        EventIdInQueue: {
          name: 'eventId',
          in: 'path',
          required: true,
          description: 'An event id; percent-encode `/` and other reserved characters.',
          schema: inputSchema(EventId),
        },
        TenantId: {
          name: 'id',
          in: 'path',
          required: true,
          description: 'A tenant id (a lowercase slug).',
          schema: inputSchema(TenantId),
        },
        KeyId: {
          name: 'keyId',
          in: 'path',
          required: true,
          description: 'An API key id (`key_…`).',
          schema: { type: 'string', pattern: '^key_[0-9a-f]{32}$' },
        },
        EventTypeName: {
          name: 'name',
          in: 'path',
          required: true,
          description: 'An event type name; percent-encode `/`.',
          schema: { type: 'string', minLength: 1, maxLength: 256 },
        },
        IfMatch: {
          name: 'If-Match',
          in: 'header',
          required: false,
          description: 'The subscription `version` the change is based on; a stale one answers 412.',
          schema: inputSchema(IfMatch),
        },
      },
      headers: {
        RetryAfter: {
          description: 'Seconds to wait before retrying.',
          schema: { type: 'integer', minimum: 0 },
        },
      },
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', description: '`Authorization: Bearer <api key>`.' },
        operatorAuth: {
          type: 'http',
          scheme: 'bearer',
          description: '`Authorization: Bearer <operator key>` (ADMIN_API_KEYS); only for `/v1/tenants…`.',
        },
      },
    },
  };
}
