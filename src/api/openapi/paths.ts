/** The subscription, event, handshake and operations paths of the OpenAPI document. */
import {
  type JsonObject,
  queryParameters,
  type OperationSpec,
  operation,
  subscriptionIdParam,
  eventIdParam,
  queueEventIdParam,
  ifMatchParam,
  BODYLESS_POST_ERRORS,
} from './operations';
import { SubscriptionDeleteQuery, SubscriptionList } from '../schemas/subscription';
import { DeliveriesQuery } from '../schemas/delivery';
import { HandshakeCallbackQuery } from '../schemas/handshake';
import { tenantPaths, tenantSelfPaths } from './tenant-paths';

export function paths(): Record<string, Record<string, JsonObject>> {
  const subscription = (summary: string, operationId: string, extra: Partial<OperationSpec> = {}) =>
    operation({
      operationId,
      summary,
      tag: 'Subscriptions',
      parameters: [subscriptionIdParam],
      responses: [{ status: 200, description: 'The subscription.', schema: 'Subscription' }],
      errors: [404],
      ...extra,
    });

  return {
    '/v1/subscriptions': {
      post: operation({
        operationId: 'createSubscription',
        summary: 'Register a webhook endpoint',
        tag: 'Subscriptions',
        description:
          'The URL is unique per tenant after normalisation; a second registration answers 409 with the existing id in `details`. Targets in private, loopback, link-local and metadata ranges answer 400 unless allowed.',
        body: { schema: 'SubscriptionCreate', required: true },
        responses: [
          {
            status: 201,
            description: 'The subscription, with its signing `secret`.',
            schema: 'Subscription',
          },
        ],
        errors: [400, 409, 413, 415],
      }),
      get: operation({
        operationId: 'listSubscriptions',
        summary: 'List subscriptions',
        tag: 'Subscriptions',
        parameters: queryParameters(SubscriptionList),
        responses: [{ status: 200, description: 'One page of subscriptions.', schema: 'SubscriptionList' }],
        errors: [400],
      }),
      delete: operation({
        operationId: 'deleteSubscriptionByUrl',
        summary: 'Delete the subscription registered for a URL',
        tag: 'Subscriptions',
        parameters: queryParameters(SubscriptionDeleteQuery),
        responses: [{ status: 204, description: 'Deleted.' }],
        errors: [400, 404],
      }),
    },
    '/v1/subscriptions/{id}': {
      get: subscription('Get a subscription', 'getSubscription'),
      patch: subscription('Change a subscription', 'updateSubscription', {
        parameters: [subscriptionIdParam, ifMatchParam],
        body: { schema: 'SubscriptionPatch', required: true },
        responses: [{ status: 200, description: 'The updated subscription.', schema: 'Subscription' }],
        errors: [400, 404, 409, 412, 413, 415],
      }),
      delete: subscription('Delete a subscription', 'deleteSubscription', {
        responses: [{ status: 204, description: 'Deleted.' }],
      }),
    },
    '/v1/subscriptions/{id}/secret': {
      get: subscription('Get the signing secret', 'getSubscriptionSecret', {
        responses: [{ status: 200, description: 'The current secret.', schema: 'Secret' }],
      }),
    },
    '/v1/subscriptions/{id}/secret/rotate': {
      post: subscription('Rotate the signing secret', 'rotateSubscriptionSecret', {
        description: 'The old secret keeps signing too (a second signature) for 24 hours.',
        responses: [{ status: 200, description: 'The new secret.', schema: 'Secret' }],
        errors: BODYLESS_POST_ERRORS,
      }),
    },
    '/v1/subscriptions/{id}/pause': {
      post: subscription('Pause deliveries', 'pauseSubscription', {
        description: 'Events keep queueing while paused.',
        errors: BODYLESS_POST_ERRORS,
      }),
    },
    '/v1/subscriptions/{id}/resume': {
      post: subscription('Resume deliveries', 'resumeSubscription', {
        description: 'Also re-enables a subscription disabled by a 410 answer.',
        errors: BODYLESS_POST_ERRORS,
      }),
    },
    '/v1/subscriptions/{id}/queue': {
      get: subscription('Pending events, in delivery order', 'getSubscriptionQueue', {
        responses: [{ status: 200, description: 'The queue.', schema: 'Queue' }],
      }),
    },
    '/v1/subscriptions/{id}/deliveries': {
      get: subscription('Recent delivery attempts, newest first', 'listSubscriptionDeliveries', {
        parameters: [subscriptionIdParam, ...queryParameters(DeliveriesQuery)],
        responses: [{ status: 200, description: 'Delivery attempts.', schema: 'Deliveries' }],
        errors: [400, 404],
      }),
    },
    '/v1/subscriptions/{id}/events/{eventId}': {
      get: subscription('Where one event stands at this subscription', 'getSubscriptionEvent', {
        parameters: [subscriptionIdParam, queueEventIdParam],
        responses: [{ status: 200, description: 'The queue entry.', schema: 'EntryStatus' }],
      }),
    },
    '/v1/subscriptions/{id}/dead-letters': {
      get: subscription('Events given up on, oldest first', 'listSubscriptionDeadLetters', {
        responses: [{ status: 200, description: 'Dead letters (kept 7 days).', schema: 'DeadLetters' }],
      }),
    },
    '/v1/subscriptions/{id}/redeliver': {
      post: subscription('Send events again', 'redeliverSubscriptionEvents', {
        description:
          'Re-queues dead letters, or re-sends delivered events, at the end of the queue in their original order.',
        body: { schema: 'RedeliverRequest', required: true },
        responses: [{ status: 202, description: 'Queued again.', schema: 'RedeliverResult' }],
        errors: [400, 404, 413, 415],
      }),
    },
    '/v1/events': {
      post: operation({
        operationId: 'publishEvents',
        summary: 'Publish one event, or a batch of up to 100',
        tag: 'Events',
        description:
          'Answers once every matching subscription has durably queued the events, in order. Publishing an `id` again within 7 days queues nothing new (`duplicate: true`). A body is a batch iff it has an `events` member.',
        body: { schema: 'PublishRequest', required: true },
        responses: [{ status: 202, description: 'Queued.', schema: 'PublishResult' }],
        errors: [400, 413, 415, 429, 503],
      }),
    },
    '/v1/events/{id}': {
      get: operation({
        operationId: 'getEvent',
        summary: 'Get a published event (kept at least 7 days)',
        tag: 'Events',
        parameters: [eventIdParam],
        responses: [{ status: 200, description: 'The event and its subscriptions.', schema: 'Event' }],
        errors: [404],
      }),
    },
    ...tenantPaths(),
    ...tenantSelfPaths(),
    '/v1/validate/{id}': Object.fromEntries(
      (['get', 'post'] as const).map((method) => [
        method,
        operation({
          operationId: method === 'get' ? 'confirmHandshake' : 'confirmHandshakePost',
          summary: 'Confirm the CloudEvents handshake (the callback URL)',
          tag: 'Handshake',
          auth: false,
          description:
            'Needs no API key: the code is the secret. A wrong code answers 403 and changes nothing.',
          parameters: [subscriptionIdParam, ...queryParameters(HandshakeCallbackQuery)],
          responses: [{ status: 200, description: 'The subscription is active.', schema: 'HandshakeResult' }],
          errors: [403, 404],
        }),
      ]),
    ),
    '/healthz': {
      get: operation({
        operationId: 'health',
        summary: 'The process is up',
        tag: 'Operations',
        auth: false,
        responses: [{ status: 200, description: 'Up.', schema: 'Health' }],
        errors: [],
      }),
    },
    '/readyz': {
      get: operation({
        operationId: 'ready',
        summary: 'Temporal answers and a worker polls',
        tag: 'Operations',
        auth: false,
        responses: [
          { status: 200, description: 'Ready.', schema: 'Readiness' },
          { status: 503, description: 'Not ready; `checks` says what is missing.', schema: 'Readiness' },
        ],
        errors: [],
      }),
    },
    '/metrics': {
      get: operation({
        operationId: 'metrics',
        summary: 'Prometheus metrics',
        tag: 'Operations',
        auth: false,
        responses: [
          {
            status: 200,
            description: 'Prometheus text exposition format.',
            content: { 'text/plain; version=0.0.4': { schema: { type: 'string' } } },
          },
        ],
        errors: [],
      }),
    },
    '/openapi.json': {
      get: operation({
        operationId: 'openapi',
        summary: 'This document',
        tag: 'Operations',
        auth: false,
        responses: [
          {
            status: 200,
            description: 'The OpenAPI 3.1 document.',
            content: { 'application/json': { schema: { type: 'object' } } },
          },
        ],
        errors: [],
      }),
    },
    '/docs': {
      get: operation({
        operationId: 'docs',
        summary: 'A readable page of the API',
        tag: 'Operations',
        auth: false,
        responses: [
          { status: 200, description: 'HTML.', content: { 'text/html': { schema: { type: 'string' } } } },
        ],
        errors: [],
      }),
    },
  };
}
