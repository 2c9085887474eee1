import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { z } from 'zod';
import { errorMiddleware } from '../../src/api/app';
import { HttpError } from '../../src/api/errors';
import {
  EventId,
  Labels,
  MessageId,
  nestsDeeperThan,
  Rfc3339,
  stringRecord,
  SubscriptionId,
  validationDetails,
} from '../../src/api/schemas/common';
import {
  checkEventDataDepths,
  checkEventDataSizes,
  EventIn,
  eventsOf,
  MAX_EVENT_DATA_BYTES,
  MAX_EVENT_DATA_DEPTH,
  PublishIn,
} from '../../src/api/schemas/event';
import { parseEvents } from '../../src/api/ingress-parse';
import {
  IfMatch,
  SubscriptionCreate,
  SubscriptionCursor,
  SubscriptionDeleteQuery,
  SubscriptionList,
  SubscriptionOut,
  SubscriptionPatch,
} from '../../src/api/schemas/subscription';
import { DeliveriesQuery, RedeliverIn } from '../../src/api/schemas/delivery';
import { RESERVED_HEADERS } from '../../src/domain/headers';
import { createLogger } from '../../src/logger';
import { jsonBody, judgeContentType, parseBody, parseQuery } from '../../src/api/parse';

/** The details a route would answer with, or the parsed value when the input is valid. */
function details(schema: z.ZodType, input: unknown): { path: string; message: string }[] {
  try {
    parseBody(schema, input);
  } catch (err) {
    expect(err).toBeInstanceOf(HttpError);
    return (err as HttpError).details as { path: string; message: string }[];
  }
  return [];
}

function paths(schema: z.ZodType, input: unknown): string[] {
  return details(schema, input).map((d) => d.path);
}

const minimalSubscription = { url: 'https://example.com/hooks', eventTypes: ['order.created'] };
const create = (extra: Record<string, unknown>) => ({ ...minimalSubscription, ...extra });
const entries = (n: number, value = 'v') =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, value]));

describe('validation details', () => {
  it('name an array element by its dot-joined path', () => {
    expect(details(SubscriptionCreate, create({ eventTypes: ['order.created', 'bad..type'] }))).toEqual([
      { path: 'eventTypes.1', message: expect.stringMatching(/event type/) },
    ]);
  });

  it('report each unknown field of a strict object at its own path', () => {
    expect(details(SubscriptionCreate, create({ foo: 1, bar: 2 }))).toEqual([
      { path: 'foo', message: 'unknown field' },
      { path: 'bar', message: 'unknown field' },
    ]);
  });

  it('report an unknown field of a nested strict object under its parent', () => {
    const schema = z.strictObject({ headers: z.strictObject({ a: z.string().optional() }) });
    expect(validationDetails(schema.safeParse({ headers: { x: '1' } }).error!)).toEqual([
      { path: 'headers.x', message: 'unknown field' },
    ]);
    expect(paths(PublishIn, { events: [{ type: 'a', data: 1, foo: true }] })).toEqual(['events.0.foo']);
  });

  it('say "required" for a missing member', () => {
    expect(details(SubscriptionCreate, { url: 'https://example.com/' })).toEqual([
      { path: 'eventTypes', message: 'required' },
    ]);
  });

  it('use an empty path for the body as a whole', () => {
    expect(paths(SubscriptionCreate, [1, 2])).toEqual(['']);
  });

  it('come from parseBody and parseQuery as a 400 validation_failed', () => {
    expect(() => parseBody(SubscriptionCreate, {})).toThrow(
      expect.objectContaining({ status: 400, code: 'validation_failed' }),
    );
    expect(() => parseQuery(SubscriptionList, { limit: 'x' })).toThrow(
      expect.objectContaining({
        status: 400,
        code: 'validation_failed',
        message: 'the query string is not valid',
      }),
    );
  });
});

describe('ids', () => {
  it.each(['sub_1', 'sub_2f9c1e7ab04d4e1f9a1b3c5d7e9f0a12'])('accept subscription id %s', (id) => {
    expect(SubscriptionId.safeParse(id).success).toBe(true);
  });

  it.each(['sub_', 'evt_1', 'sub_a-b', `sub_${'a'.repeat(65)}`, 'SUB_1'])(
    'refuse subscription id %j',
    (id) => {
      expect(SubscriptionId.safeParse(id).success).toBe(false);
    },
  );

  it('take message ids only with the msg_ prefix', () => {
    expect(MessageId.safeParse('msg_0123abcd').success).toBe(true);
    expect(MessageId.safeParse('sub_0123abcd').success).toBe(false);
  });

  it.each(['order-42-created', 'evt_abc', 'a', 'tenant/a:b@c+d.e_f', 'x'.repeat(256)])(
    'accept producer event id %s',
    (id) => {
      expect(EventId.safeParse(id).success).toBe(true);
    },
  );

  it.each(['', 'x'.repeat(257), 'has space', 'semi;colon', 'ünïcode', 'a#b'])('refuse event id %j', (id) => {
    expect(EventId.safeParse(id).success).toBe(false);
  });
});

describe('RFC 3339 timestamps', () => {
  it('keep a UTC timestamp as given', () => {
    expect(Rfc3339.parse('2026-11-22T10:00:00Z')).toBe('2026-11-22T10:00:00Z');
  });

  it('rewrite an offset to UTC, keeping every fraction digit', () => {
    expect(Rfc3339.parse('2026-11-22T11:00:00.123456+01:00')).toBe('2026-11-22T10:00:00.123456Z');
    expect(Rfc3339.parse('2026-12-31T23:30:00-01:00')).toBe('2027-01-01T00:30:00Z');
  });

  it.each(['9999-12-31T23:59:59-23:59', '0000-01-01T00:00:00+00:01', '0000-01-01T00:00:00.5+00:01'])(
    'refuse %j: its UTC form is outside the years 0000-9999',
    (value) => {
      expect(details(RedeliverIn, { since: value })).toEqual([
        { path: 'since', message: 'must fall within the years 0000 to 9999 in UTC' },
      ]);
    },
  );

  it('take the first and last instants of those years, whatever the offset', () => {
    expect(Rfc3339.parse('0000-01-01T00:00:00Z')).toBe('0000-01-01T00:00:00Z');
    expect(Rfc3339.parse('0000-01-01T00:00:00-00:01')).toBe('0000-01-01T00:01:00Z');
    expect(Rfc3339.parse('9999-12-31T23:59:59.999999Z')).toBe('9999-12-31T23:59:59.999999Z');
    expect(Rfc3339.parse('9999-12-31T23:59:59+23:59')).toBe('9999-12-31T00:00:59Z');
  });

  it.each(['2026-11-22T10:00:00', '2026-02-30T10:00:00Z', '2026-11-22 10:00:00Z', 'yesterday', '1700000000'])(
    'refuse %j',
    (value) => {
      expect(Rfc3339.safeParse(value).success).toBe(false);
    },
  );
});

describe('string records', () => {
  const record = stringRecord({ maxEntries: 3, maxKeyLength: 5, maxValueLength: 4, noun: 'things' });

  it('accept entries within every limit', () => {
    expect(record.parse({ a: '', bbbbb: 'cccc' })).toEqual({ a: '', bbbbb: 'cccc' });
  });

  it('refuse too many entries', () => {
    expect(details(record, { a: '1', b: '2', c: '3', d: '4' })).toEqual([
      { path: '', message: 'at most 3 things' },
    ]);
  });

  it('refuse a long key, an empty key and a long value at their paths', () => {
    expect(paths(record, { abcdef: 'x', '': 'y', ok: 'toolong' })).toEqual(['abcdef', '', 'ok']);
  });

  it('refuse a __proto__ key instead of dropping it silently', () => {
    expect(details(Labels, JSON.parse('{"__proto__": "x"}'))).toEqual([
      { path: '__proto__', message: 'this name is reserved' },
    ]);
  });

  it('refuse non-string values', () => {
    expect(paths(record, { a: 1 })).toEqual(['a']);
  });
});

describe('SubscriptionCreate', () => {
  it('fills every default and normalises the URL', () => {
    expect(
      parseBody(SubscriptionCreate, { ...minimalSubscription, url: 'HTTPS://Example.COM:443/hooks#x' }),
    ).toEqual({
      url: 'https://example.com/hooks',
      name: null,
      eventTypes: ['order.created'],
      subject: null,
      categories: null,
      labels: null,
      format: 'raw',
      requireValidation: false,
      maxBatchSize: 100,
      headers: {},
      rateLimitPerSecond: null,
      description: null,
      metadata: {},
    });
  });

  it('keeps every field a client sets', () => {
    const full = {
      url: 'https://example.com/hooks',
      name: 'Orders to ERP',
      eventTypes: ['catalog.created', 'edition.*', '*'],
      subject: 'catalogs/',
      categories: ['input', 'stream'],
      labels: { pool: 'prod-1' },
      format: 'cloudevents',
      requireValidation: true,
      maxBatchSize: 1,
      headers: { 'X-Team': 'payments' },
      rateLimitPerSecond: 50,
      description: 'orders',
      metadata: { k: 'v' },
    };
    expect(parseBody(SubscriptionCreate, full)).toEqual(full);
  });

  describe('url', () => {
    it.each([
      ['ftp://example.com/', /scheme ftp is not supported/],
      ['not a url', /not a valid absolute URL/],
      ['https://user:pw@example.com/', /credentials/],
      [`https://example.com/${'a'.repeat(2048)}`, /at most 2048/],
    ])('refuses %s with a clear message', (url, message) => {
      expect(details(SubscriptionCreate, create({ url }))).toEqual([
        { path: 'url', message: expect.stringMatching(message) },
      ]);
    });

    it('is required', () => {
      expect(paths(SubscriptionCreate, { eventTypes: ['a'] })).toEqual(['url']);
    });
  });

  describe('eventTypes', () => {
    it('needs at least one', () => {
      expect(paths(SubscriptionCreate, create({ eventTypes: [] }))).toEqual(['eventTypes']);
    });

    it('takes at most 100', () => {
      const hundred = Array.from({ length: 100 }, (_, i) => `t${i}`);
      expect(paths(SubscriptionCreate, create({ eventTypes: hundred }))).toEqual([]);
      expect(paths(SubscriptionCreate, create({ eventTypes: [...hundred, 'x'] }))).toEqual(['eventTypes']);
    });

    it.each(['order.', '.order', 'order.*.created', 'order*', '**', 'a b', ''])(
      'refuses the pattern %j',
      (pattern) => {
        expect(paths(SubscriptionCreate, create({ eventTypes: ['ok', pattern] }))).toEqual(['eventTypes.1']);
      },
    );
  });

  it.each([
    ['subject', 'x'.repeat(1025)],
    ['categories', Array.from({ length: 51 }, (_, i) => `c${i}`)],
    ['format', 'xml'],
    ['requireValidation', 'yes'],
    ['maxBatchSize', 0],
    ['maxBatchSize', 101],
    ['maxBatchSize', 1.5],
    ['rateLimitPerSecond', 0],
    ['rateLimitPerSecond', 10_001],
    ['rateLimitPerSecond', 2.5],
    ['description', 'x'.repeat(1025)],
    ['labels', entries(51)],
    ['metadata', entries(51)],
  ])('refuses %s = %j', (field, value) => {
    expect(paths(SubscriptionCreate, create({ [field]: value }))).toEqual([field]);
  });

  it.each([
    ['categories', ['ok', ''], 'categories.1'],
    ['categories', ['ok', 'x'.repeat(257)], 'categories.1'],
    ['labels', { ['k'.repeat(129)]: 'v' }, `labels.${'k'.repeat(129)}`],
    ['labels', { k: 'v'.repeat(257) }, 'labels.k'],
    ['metadata', { ['k'.repeat(129)]: 'v' }, `metadata.${'k'.repeat(129)}`],
    ['metadata', { k: 'v'.repeat(1025) }, 'metadata.k'],
  ])('refuses a bad entry of %s at its path', (field, value, path) => {
    expect(paths(SubscriptionCreate, create({ [field]: value }))).toEqual([path]);
  });

  it('takes the largest values of every limit', () => {
    const input = create({
      subject: 'x'.repeat(1024),
      categories: Array.from({ length: 50 }, () => 'c'.repeat(256)),
      labels: { ['k'.repeat(128)]: 'v'.repeat(256), ...entries(49) },
      maxBatchSize: 100,
      rateLimitPerSecond: 10_000,
      description: 'x'.repeat(1024),
      metadata: { ['k'.repeat(128)]: 'v'.repeat(1024), ...entries(49) },
      headers: { ['X'.repeat(128)]: 'v'.repeat(2048), ...entries(49) },
    });
    expect(details(SubscriptionCreate, input)).toEqual([]);
  });

  it('takes null for a nullable field', () => {
    const parsed = parseBody(
      SubscriptionCreate,
      create({ subject: null, rateLimitPerSecond: null, labels: null }),
    );
    expect(parsed).toMatchObject({ subject: null, rateLimitPerSecond: null, labels: null });
  });

  describe('headers', () => {
    it.each([...RESERVED_HEADERS, 'Content-Type', 'WEBHOOK-SIGNATURE', 'Webhook-Request-Origin'])(
      'refuses %s: it would override a signature, content or origin header',
      (name) => {
        expect(details(SubscriptionCreate, create({ headers: { [name]: 'x' } }))).toEqual([
          {
            path: `headers.${name}`,
            message: expect.stringMatching(/may not override the signature, content or origin headers/),
          },
        ]);
      },
    );

    it.each(['a\r\nInjected: yes', 'a\nb', 'a\rb', 'a\0b'])(
      'refuses the value %j (CR, LF or NUL)',
      (value) => {
        expect(details(SubscriptionCreate, create({ headers: { 'X-Team': value } }))).toEqual([
          { path: 'headers.X-Team', message: 'must not contain CR, LF or NUL' },
        ]);
      },
    );

    it('refuses a value an HTTP client could not send', () => {
      expect(paths(SubscriptionCreate, create({ headers: { 'X-Emoji': '😀', 'X-Bell': '\u0007' } }))).toEqual(
        ['headers.X-Emoji', 'headers.X-Bell'],
      );
    });

    it.each(['X Team', 'X-Team:', 'Ünicode', '(x)', ''])(
      'refuses the name %j, which is no HTTP token',
      (name) => {
        expect(paths(SubscriptionCreate, create({ headers: { [name]: 'x' } }))).toEqual([`headers.${name}`]);
      },
    );

    it('refuses one name given twice in different case', () => {
      expect(details(SubscriptionCreate, create({ headers: { 'X-Team': 'a', 'x-team': 'b' } }))).toEqual([
        { path: 'headers.x-team', message: expect.stringMatching(/case-insensitive/) },
      ]);
    });

    it('refuses a name over 128 characters, a value over 2048, and more than 50 headers', () => {
      expect(paths(SubscriptionCreate, create({ headers: { ['X'.repeat(129)]: 'v' } }))).toEqual([
        `headers.${'X'.repeat(129)}`,
      ]);
      expect(paths(SubscriptionCreate, create({ headers: { 'X-A': 'v'.repeat(2049) } }))).toEqual([
        'headers.X-A',
      ]);
      expect(paths(SubscriptionCreate, create({ headers: entries(51) }))).toEqual(['headers']);
    });

    it('keeps tokens with every punctuation RFC 9110 allows, and Latin-1 values', () => {
      const headers = { "X-!#$%&'*+.^_`|~1": 'café\tcrème' };
      expect(parseBody(SubscriptionCreate, create({ headers })).headers).toEqual(headers);
    });
  });
});

describe('SubscriptionPatch', () => {
  it('changes only the fields given, without defaults', () => {
    expect(parseBody(SubscriptionPatch, { maxBatchSize: 10 })).toEqual({ maxBatchSize: 10 });
  });

  it('normalises a new URL', () => {
    expect(parseBody(SubscriptionPatch, { url: 'HTTP://A.example:80/x' })).toEqual({
      url: 'http://a.example/x',
    });
  });

  it('clears a nullable field with null', () => {
    expect(parseBody(SubscriptionPatch, { subject: null, categories: null })).toEqual({
      subject: null,
      categories: null,
    });
  });

  it('needs at least one field', () => {
    expect(details(SubscriptionPatch, {})).toEqual([
      { path: '', message: 'give at least one field to change' },
    ]);
  });

  it('refuses requireValidation, which cannot change, as an unknown field', () => {
    expect(details(SubscriptionPatch, { requireValidation: true })).toEqual([
      { path: 'requireValidation', message: 'unknown field' },
    ]);
  });

  it('applies the create rules to each field', () => {
    expect(paths(SubscriptionPatch, { eventTypes: [], headers: { Host: 'x' }, maxBatchSize: 0 })).toEqual([
      'eventTypes',
      'maxBatchSize',
      'headers.Host',
    ]);
  });
});

describe('If-Match', () => {
  it.each([
    ['3', 3],
    ['"3"', 3],
    ['W/"12"', 12],
    [' 7 ', 7],
  ])('reads %j as version %d', (header, version) => {
    expect(IfMatch.parse(header)).toBe(version);
  });

  it.each(['abc', '"3', '3.5', '-1', '*', ''])('refuses %j', (header) => {
    expect(IfMatch.safeParse(header).success).toBe(false);
  });
});

describe('list and deliveries queries', () => {
  const afterId = 'sub_2f9c1e7ab04d4e1f9a1b3c5d7e9f0a12';

  it('coerce limit from the query string, 50 when absent', () => {
    expect(parseQuery(SubscriptionList, { limit: '250' })).toEqual({ limit: 250 });
    expect(parseQuery(SubscriptionList, {})).toEqual({ limit: 50 });
    expect(parseQuery(DeliveriesQuery, { limit: '100' })).toEqual({ limit: 100 });
    expect(parseQuery(DeliveriesQuery, {})).toEqual({ limit: 50 });
  });

  it.each(['0', '251', 'abc', '1.5', ''])('refuse subscription list limit %j', (limit) => {
    expect(paths(SubscriptionList, { limit })).toEqual(['limit']);
  });

  it.each(['0', '101', 'ten'])('refuse deliveries limit %j', (limit) => {
    expect(paths(DeliveriesQuery, { limit })).toEqual(['limit']);
  });

  it('filter by normalised url, event type, status and cursor', () => {
    expect(
      parseQuery(SubscriptionList, {
        url: 'HTTPS://Example.com:443/h',
        eventType: 'order.created',
        status: 'paused',
        cursor: SubscriptionCursor.encode(afterId),
      }),
    ).toEqual({
      url: 'https://example.com/h',
      eventType: 'order.created',
      status: 'paused',
      cursor: afterId,
      limit: 50,
    });
  });

  it('hand out cursors that are opaque text, and take back only those', () => {
    const cursor = SubscriptionCursor.encode(afterId);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(cursor).not.toContain(afterId);
    expect(parseQuery(SubscriptionList, { cursor }).cursor).toBe(afterId);
    const b64 = (text: string) => Buffer.from(text).toString('base64url');
    for (const other of [
      afterId,
      'abc',
      `${cursor}=`,
      `${cursor}A`,
      b64(`{ "after": "${afterId}" }`),
      b64(`{"after":"${afterId}","x":1}`),
      b64('{"after":"sub_x"}'),
      b64('null'),
      '',
    ]) {
      expect(paths(SubscriptionList, { cursor: other })).toEqual(['cursor']);
    }
  });

  it('refuse an unknown status, a long cursor and a repeated parameter', () => {
    expect(paths(SubscriptionList, { status: 'sleeping' })).toEqual(['status']);
    expect(paths(SubscriptionList, { cursor: 'c'.repeat(513) })).toEqual(['cursor']);
    expect(paths(SubscriptionList, { eventType: ['a', 'b'] })).toEqual(['eventType']);
  });

  it('need a url to delete by url', () => {
    expect(details(SubscriptionDeleteQuery, {})).toEqual([{ path: 'url', message: 'required' }]);
    expect(parseQuery(SubscriptionDeleteQuery, { url: 'https://EXAMPLE.com' })).toEqual({
      url: 'https://example.com/',
    });
  });
});

describe('RedeliverIn', () => {
  it('takes event ids', () => {
    expect(parseBody(RedeliverIn, { eventIds: ['a', 'evt_1'] })).toEqual({ eventIds: ['a', 'evt_1'] });
  });

  it('takes a time, in UTC', () => {
    expect(parseBody(RedeliverIn, { since: '2026-11-22T12:00:00+02:00' })).toEqual({
      since: '2026-11-22T10:00:00Z',
    });
  });

  it.each([
    ['neither', {}],
    ['both', { eventIds: ['a'], since: '2026-11-22T10:00:00Z' }],
  ])('refuses %s of eventIds and since', (_what, body) => {
    expect(details(RedeliverIn, body)).toEqual([
      { path: '', message: 'give exactly one of eventIds or since' },
    ]);
  });

  it('takes 1..1000 ids, each a valid event id', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => `e${i}`);
    expect(paths(RedeliverIn, { eventIds: ids })).toEqual([]);
    expect(paths(RedeliverIn, { eventIds: [...ids, 'x'] })).toEqual(['eventIds']);
    expect(paths(RedeliverIn, { eventIds: [] })).toEqual(['eventIds']);
    expect(paths(RedeliverIn, { eventIds: ['ok', 'not ok'] })).toEqual(['eventIds.1']);
  });

  it('refuses a bad time and unknown fields', () => {
    expect(paths(RedeliverIn, { since: 'last week' })).toEqual(['since']);
    expect(paths(RedeliverIn, { since: '2026-11-22T10:00:00Z', all: true })).toEqual(['all']);
  });
});

describe('SubscriptionOut', () => {
  const subscription = {
    id: 'sub_1',
    tenant: 'acme',
    ...parseBody(SubscriptionCreate, minimalSubscription),
    status: 'active',
    version: 1,
    createdAt: '2026-11-22T10:00:00.000Z',
    updatedAt: '2026-11-22T10:00:00.000Z',
  };

  it('leaves the tenant out and the secret optional', () => {
    const out = SubscriptionOut.parse(subscription);
    expect(out).not.toHaveProperty('tenant');
    expect(out).not.toHaveProperty('secret');
    expect(SubscriptionOut.parse({ ...subscription, secret: 'whsec_x' }).secret).toBe('whsec_x');
  });
});

describe('EventIn', () => {
  it('needs only type and data', () => {
    expect(parseBody(EventIn, { type: 'order.created', data: { any: 'json' } })).toEqual({
      type: 'order.created',
      data: { any: 'json' },
    });
  });

  it.each([null, 0, false, '', [], 'text'])('takes data %j: any JSON value, null included', (data) => {
    expect(parseBody(EventIn, { type: 't', data })).toEqual({ type: 't', data });
  });

  it('needs data to be present', () => {
    expect(details(EventIn, { type: 't' })).toEqual([{ path: 'data', message: 'required' }]);
  });

  it('keeps every optional field, with time in UTC', () => {
    const event = {
      id: 'order-42-created',
      type: 'order.created',
      source: 'shop',
      subject: 'orders/42',
      category: 'order',
      labels: { pool: 'prod-1' },
      time: '2026-11-22T11:00:00+01:00',
      data: 1,
    };
    expect(parseBody(EventIn, event)).toEqual({ ...event, time: '2026-11-22T10:00:00Z' });
  });

  it.each([
    ['type', ''],
    ['type', 'x'.repeat(257)],
    ['type', 'order created'],
    ['type', 'order.*'],
    ['type', 42],
    ['id', 'has space'],
    ['id', ''],
    ['source', ''],
    ['source', 's'.repeat(1025)],
    ['subject', 's'.repeat(1025)],
    ['category', 'c'.repeat(257)],
    ['time', '2026-11-22T10:00:00'],
    ['labels', { pool: 1 }],
  ])('refuses %s = %j', (field, value) => {
    const paths_ = paths(EventIn, { type: 't', data: null, [field]: value });
    expect(paths_.length).toBeGreaterThan(0);
    expect(paths_.every((p) => p === field || p.startsWith(`${field}.`))).toBe(true);
  });

  it('takes a type of 256 characters from the allowed set', () => {
    expect(paths(EventIn, { type: `a.B_c:d/e-${'f'.repeat(246)}`, data: null })).toEqual([]);
  });

  it('refuses unknown fields', () => {
    expect(details(EventIn, { type: 't', data: 1, payload: 2 })).toEqual([
      { path: 'payload', message: 'unknown field' },
    ]);
  });
});

describe('PublishIn', () => {
  const event = { type: 'order.created', data: { n: 1 } };

  it('takes one event', () => {
    const body = parseBody(PublishIn, event);
    expect(eventsOf(body)).toEqual([event]);
  });

  it('takes a batch of 1..100 events, in order', () => {
    const events = Array.from({ length: 100 }, (_, i) => ({ ...event, id: `e${i}` }));
    expect(eventsOf(parseBody(PublishIn, { events }))).toEqual(events);
  });

  it('refuses a batch of 101 events', () => {
    const events = Array.from({ length: 101 }, () => event);
    expect(details(PublishIn, { events })).toEqual([
      { path: 'events', message: 'at most 100 events per request' },
    ]);
  });

  it('refuses an empty batch', () => {
    expect(paths(PublishIn, { events: [] })).toEqual(['events']);
  });

  it('names the bad event of a batch by index', () => {
    expect(paths(PublishIn, { events: [event, { type: 'bad type', data: 1 }, { type: 'x' }] })).toEqual([
      'events.1.type',
      'events.2.data',
    ]);
  });

  it('treats any body with an events member as a batch', () => {
    expect(details(PublishIn, { events: [event], type: 't', data: 1 })).toEqual([
      { path: 'type', message: 'unknown field' },
      { path: 'data', message: 'unknown field' },
    ]);
  });

  it('reports a single event by its own fields, not as a failed union', () => {
    expect(details(PublishIn, { type: 't' })).toEqual([{ path: 'data', message: 'required' }]);
  });

  it.each([[[event]], ['text'], [null], [42]])('refuses the body %j', (body) => {
    expect(paths(PublishIn, body)).toEqual(['']);
  });
});

describe('event data size', () => {
  /** A JSON string value whose serialised form is `bytes` long (two bytes of quotes). */
  const dataOf = (bytes: number, char = 'a') => char.repeat((bytes - 2) / Buffer.byteLength(char));

  it('allows data of exactly 256 KiB serialised', () => {
    expect(() => checkEventDataSizes([{ data: dataOf(MAX_EVENT_DATA_BYTES) }])).not.toThrow();
  });

  it('answers 413 naming the event index when one is a byte over', () => {
    const events = [{ data: 1 }, { data: dataOf(MAX_EVENT_DATA_BYTES + 1) }];
    expect(() => checkEventDataSizes(events)).toThrow(
      expect.objectContaining({
        status: 413,
        code: 'payload_too_large',
        message: expect.stringMatching(/^event 1:/),
      }),
    );
  });

  it('counts UTF-8 bytes, not characters', () => {
    const data = 'é'.repeat(MAX_EVENT_DATA_BYTES / 2); // fewer characters than the limit, twice the bytes
    expect(() => checkEventDataSizes([{ data }])).toThrow(HttpError);
  });

  it('counts null data as its four bytes', () => {
    expect(() => checkEventDataSizes([{ data: null }])).not.toThrow();
  });
});

describe('event data depth', () => {
  /** `depth` arrays inside one another: built in a loop, as JSON.parse would build them. */
  const nested = (depth: number, leaf: unknown = 1): unknown => {
    let value = leaf;
    for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { k: value };
    return value;
  };

  it('counts scalars as 0 levels and each array or object as one', () => {
    expect(nestsDeeperThan('x', 0)).toBe(false);
    expect(nestsDeeperThan([], 0)).toBe(true);
    expect(nestsDeeperThan({ a: [1], b: 2 }, 2)).toBe(false);
    expect(nestsDeeperThan({ a: [1], b: [[]] }, 2)).toBe(true);
  });

  it(`takes data ${MAX_EVENT_DATA_DEPTH} levels deep and refuses one more, at its path`, () => {
    expect(() => checkEventDataDepths({ type: 'a', data: nested(MAX_EVENT_DATA_DEPTH) })).not.toThrow();
    expect(() => checkEventDataDepths({ type: 'a', data: nested(MAX_EVENT_DATA_DEPTH + 1) })).toThrow(
      expect.objectContaining({ status: 400, details: [{ path: 'data', message: expect.any(String) }] }),
    );
    const batch = { events: [{ data: 1 }, { data: nested(100) }, { data: nested(3) }, { data: nested(70) }] };
    expect(() => checkEventDataDepths(batch)).toThrow(
      expect.objectContaining({
        details: [
          { path: 'events.1.data', message: expect.any(String) },
          { path: 'events.3.data', message: expect.any(String) },
        ],
      }),
    );
  });

  it('checks 100,000 levels without overflowing the stack', () => {
    const deep = JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`) as unknown;
    expect(nestsDeeperThan(deep, MAX_EVENT_DATA_DEPTH)).toBe(true);
    expect(() => checkEventDataDepths({ data: deep })).toThrow(HttpError);
  });

  it('leaves bodies that are not events to the schema', () => {
    for (const body of [null, 'x', [nested(100)], { events: 'x' }, { events: [null, 3] }]) {
      expect(() => checkEventDataDepths(body)).not.toThrow();
    }
  });

  it('protects the ingress signal too: the reason names the event and the limit', () => {
    const deep = JSON.parse(`{"data":${'['.repeat(5000)}${']'.repeat(5000)}}`) as { data: unknown };
    const result = parseEvents([
      { type: 'a', data: 1 },
      { type: 'a', data: deep.data },
    ]);
    expect(result).toEqual({ error: expect.stringMatching(/^events\.1\.data: .*\b64 levels/) });
  });
});

describe('jsonBody', () => {
  let server: Server;
  let base: string;

  beforeAll(async () => {
    const app = express();
    app.post('/echo', ...jsonBody(), (req, res) => {
      res.json({ body: req.body as unknown });
    });
    app.use(errorMiddleware(createLogger('silent')));
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  async function post(body: string | Uint8Array | undefined, headers: Record<string, string> = {}) {
    const res = await fetch(`${base}/echo`, { method: 'POST', body, headers });
    return { status: res.status, body: (await res.json()) as any };
  }

  it.each([
    'application/json',
    'application/json; charset=utf-8',
    'Application/JSON; Charset="UTF-8"',
    'application/cloudevents+json',
    'application/merge-patch+json; charset=utf-8',
  ])('parses a body of type %s', async (contentType) => {
    expect(await post('{"a":1}', { 'content-type': contentType })).toEqual({
      status: 200,
      body: { body: { a: 1 } },
    });
  });

  it.each([
    'text/plain',
    'application/x-www-form-urlencoded',
    'application/jsonx',
    'application/json; charset=latin1',
  ])('refuses a body of type %s with 415', async (contentType) => {
    const res = await post('{"a":1}', { 'content-type': contentType });
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('unsupported_media_type');
  });

  it('refuses a body without a content type with 415', async () => {
    const res = await post(new TextEncoder().encode('{"a":1}'));
    expect(res.status).toBe(415);
  });

  it('reads a body-less POST without a content type as {}', async () => {
    expect(await post(undefined)).toEqual({ status: 200, body: { body: {} } });
  });

  it('reads an empty JSON body as {}', async () => {
    expect(await post('', { 'content-type': 'application/json' })).toEqual({
      status: 200,
      body: { body: {} },
    });
  });

  it('passes any JSON value on to the schema', async () => {
    expect(await post('[1,"x"]', { 'content-type': 'application/json' })).toEqual({
      status: 200,
      body: { body: [1, 'x'] },
    });
  });

  it('answers 400 for malformed JSON and 413 for a body over 1 MiB', async () => {
    expect((await post('{"a":', { 'content-type': 'application/json' })).status).toBe(400);
    const big = JSON.stringify({ data: 'x'.repeat(1024 * 1024) });
    const res = await post(big, { 'content-type': 'application/json' });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
  });

  it('judges content types without a request', () => {
    expect(judgeContentType('application/json;charset=utf8')).toBe('json');
    expect(judgeContentType('application/json; charset=utf-16')).toBe('bad_charset');
    expect(judgeContentType('application/xml')).toBe('not_json');
  });
});
