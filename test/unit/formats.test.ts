import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HTTP, type CloudEventV1 } from 'cloudevents';
import { formatBatch, userAgent, type FormatBatchInput } from '../../src/delivery/formats';
import { FORMATS, type DeliveryFormat, type HooklineEvent } from '../../src/domain/types';

const EVENTS: HooklineEvent[] = [
  {
    id: 'order-42-created',
    type: 'order.created',
    source: 'shop',
    subject: 'orders/42',
    category: 'order',
    labels: { pool: 'prod-1', 'Team-Name': 'checkout' },
    time: '2026-11-22T10:00:00Z',
    data: { total: 42.5, currency: 'EUR', items: [{ sku: 'A-1', qty: 2 }] },
  },
  {
    id: 'evt_2',
    type: 'order.paid',
    source: 'https://shop.example/api',
    subject: null,
    category: null,
    labels: {},
    time: '2026-11-22T10:00:05.250Z',
    data: { paid: true, note: 'café <ok> & done' },
  },
  {
    id: 'ship<1>&2',
    type: 'order.created',
    source: 'shop',
    subject: 'orders/43',
    category: 'order',
    labels: { region2: 'eu' },
    time: '2026-11-22T10:01:00Z',
    data: null,
  },
];

const input = (format: DeliveryFormat, overrides: Partial<FormatBatchInput> = {}): FormatBatchInput => ({
  format,
  msgId: 'msg_2Ot5KqGolden',
  subscriptionId: 'sub_golden',
  maxBatchSize: 10,
  events: EVENTS,
  version: '0.1.0',
  ...overrides,
});

/**
 * The expected body: a hand-written file under test/fixtures/golden, kept Prettier-formatted, so it
 * is compared in its compact form (JSON.parse keeps key order; only whitespace between tokens goes).
 */
function golden(name: string): string {
  const text = readFileSync(join(__dirname, '..', 'fixtures', 'golden', `${name}.json`), 'utf8');
  return JSON.stringify(JSON.parse(text));
}

const manyEvents = (count: number, typeOf: (i: number) => string): HooklineEvent[] =>
  Array.from({ length: count }, (_, i) => ({ ...EVENTS[1]!, id: `evt_${i + 1}`, type: typeOf(i + 1) }));

describe('golden bodies', () => {
  it.each([
    ['raw', 'raw', 'application/json'],
    ['cloudevents', 'cloudevents', 'application/cloudevents-batch+json'],
    ['slack', 'slack', 'application/json'],
    ['googlechat', 'googlechat', 'application/json'],
    ['teams', 'teams', 'application/json'],
  ] as const)('a %s batch is sent byte for byte as in golden/%s.json', (format, file, contentType) => {
    const out = formatBatch(input(format));
    expect(out.contentType).toBe(contentType);
    expect(out.body).toBe(golden(file));
  });

  it('a cloudevents subscription with maxBatchSize 1 gets one structured event, as in golden/cloudevents-structured.json', () => {
    const out = formatBatch(input('cloudevents', { maxBatchSize: 1, events: EVENTS.slice(0, 1) }));
    expect(out.contentType).toBe('application/cloudevents+json');
    expect(out.body).toBe(golden('cloudevents-structured'));
  });

  it('an event subscription (maxBatchSize 1) gets the event object itself, as in golden/event.json', () => {
    const out = formatBatch(input('event', { maxBatchSize: 1, events: EVENTS.slice(0, 1) }));
    expect(out.contentType).toBe('application/json');
    expect(out.body).toBe(golden('event'));
  });

  it('an event subscription given a batch cut before its format changed sends every event, as an array', () => {
    const out = formatBatch(input('event', { maxBatchSize: 1, events: EVENTS.slice(0, 2) }));
    const body = JSON.parse(out.body);
    expect(body).toHaveLength(2);
    expect(body[0]).toEqual(JSON.parse(golden('event')));
    expect(body[1].id).toBe('evt_2');
  });

  it('every format has a golden body', () => {
    for (const format of FORMATS) expect(() => golden(format)).not.toThrow();
  });
});

describe('raw format', () => {
  it('keeps the documented key order for the batch and every event', () => {
    const body = JSON.parse(formatBatch(input('raw')).body);
    expect(Object.keys(body)).toEqual(['id', 'subscriptionId', 'events']);
    for (const e of body.events) {
      expect(Object.keys(e)).toEqual([
        'id',
        'type',
        'source',
        'subject',
        'category',
        'labels',
        'time',
        'data',
      ]);
    }
  });

  it('carries every label, whatever its name', () => {
    const body = JSON.parse(formatBatch(input('raw')).body);
    expect(body.events[0].labels).toEqual({ pool: 'prod-1', 'Team-Name': 'checkout' });
  });
});

describe('cloudevents format, read back with the CloudEvents SDK', () => {
  it('a batch parses into one CloudEvent per event, in order, with ids, types, sources, subjects and data', () => {
    const { contentType, body } = formatBatch(input('cloudevents'));
    const parsed = HTTP.toEvent({ headers: { 'content-type': contentType }, body });
    expect(Array.isArray(parsed)).toBe(true);
    const events = parsed as CloudEventV1<unknown>[];
    expect(events.map((e) => e.id)).toEqual(['order-42-created', 'evt_2', 'ship<1>&2']);
    expect(events.map((e) => e.type)).toEqual(['order.created', 'order.paid', 'order.created']);
    expect(events.map((e) => e.source)).toEqual(['shop', 'https://shop.example/api', 'shop']);
    expect(events.map((e) => e.subject)).toEqual(['orders/42', undefined, 'orders/43']);
    expect(events.map((e) => e.data)).toEqual(EVENTS.map((e) => e.data));
    expect(events.map((e) => e.specversion)).toEqual(['1.0', '1.0', '1.0']);
    expect(events.map((e) => e.datacontenttype)).toEqual(Array(3).fill('application/json'));
  });

  it('a structured event parses into a single valid CloudEvent', () => {
    const { contentType, body } = formatBatch(
      input('cloudevents', { maxBatchSize: 1, events: EVENTS.slice(0, 1) }),
    );
    const parsed = HTTP.toEvent({ headers: { 'content-type': contentType }, body });
    expect(Array.isArray(parsed)).toBe(false);
    const event = parsed as CloudEventV1<unknown> & { validate(): boolean };
    expect(event.validate()).toBe(true);
    expect(event.id).toBe('order-42-created');
    expect(event.type).toBe('order.created');
    expect(event.source).toBe('shop');
    expect(event.subject).toBe('orders/42');
    expect(event.data).toEqual(EVENTS[0]!.data);
  });

  it('sends category and valid label names as extension attributes, and leaves out labels with invalid names', () => {
    const { contentType, body } = formatBatch(input('cloudevents'));
    const [first, second, third] = HTTP.toEvent({ headers: { 'content-type': contentType }, body }) as Record<
      string,
      unknown
    >[];
    expect(first!.category).toBe('order');
    expect(first!.labelpool).toBe('prod-1');
    expect(Object.keys(first!).filter((k) => /team/i.test(k))).toEqual([]);
    expect(second!.category).toBeUndefined();
    expect(third!.labelregion2).toBe('eu');
  });

  it('uses only spec-valid attribute names (lowercase letters and digits)', () => {
    const labels = {
      pool: 'a',
      Upper: 'b',
      'with-dash': 'c',
      'dot.ted': 'd',
      under_score: 'e',
      '': 'f',
      x9: 'g',
    };
    const body = JSON.parse(formatBatch(input('cloudevents', { events: [{ ...EVENTS[0]!, labels }] })).body);
    for (const name of Object.keys(body[0])) expect(name).toMatch(/^[a-z0-9]+$/);
    expect(body[0]).toMatchObject({ labelpool: 'a', labelx9: 'g' });
  });

  it('stays in batch mode when a batch of several events meets maxBatchSize 1 (lowered after the batch was cut)', () => {
    const out = formatBatch(input('cloudevents', { maxBatchSize: 1 }));
    expect(out.contentType).toBe('application/cloudevents-batch+json');
    expect(JSON.parse(out.body)).toHaveLength(3);
  });
});

describe('chat summaries', () => {
  const slackLines = (events: HooklineEvent[]) =>
    (JSON.parse(formatBatch(input('slack', { events })).body) as { text: string }).text.split('\n');

  it('names at most 10 events and counts the rest', () => {
    const lines = slackLines(manyEvents(25, () => 'order.created'));
    expect(lines[0]).toBe('*Hookline: 25 events*');
    expect(lines[2]).toBe('Types: order.created ×25');
    expect(lines.filter((l) => l.startsWith('• '))).toHaveLength(10);
    expect(lines[3]).toBe('• order.created: evt_1');
    expect(lines.at(-1)).toBe('…and 15 more');
  });

  it('lists at most 10 distinct types and counts the rest', () => {
    const lines = slackLines(manyEvents(12, (i) => `type.t${i}`));
    expect(lines[2]).toBe(
      'Types: type.t1, type.t2, type.t3, type.t4, type.t5, type.t6, type.t7, type.t8, type.t9, type.t10, …and 2 more',
    );
  });

  it('speaks of one event in the singular and adds no "more" line', () => {
    const lines = slackLines(EVENTS.slice(1, 2));
    expect(lines[0]).toBe('*Hookline: 1 event*');
    expect(lines.at(-1)).toBe('• order.paid: evt_2');
  });

  it('cuts long values and folds line breaks so a producer cannot flood the message', () => {
    const lines = slackLines([{ ...EVENTS[1]!, id: `a\nb${'x'.repeat(500)}` }]);
    expect(lines).toHaveLength(4);
    expect(Array.from(lines[3]!.slice('• order.paid: '.length))).toHaveLength(80);
    expect(lines[3]!.endsWith('…')).toBe(true);
    expect(lines[3]!.startsWith('• order.paid: a bxxx')).toBe(true);
  });

  it('does not let an event id mention everyone on Slack or Google Chat', () => {
    const events = [{ ...EVENTS[1]!, id: '<!channel> <users/all>' }];
    const slack = JSON.parse(formatBatch(input('slack', { events })).body).text as string;
    const chat = JSON.parse(formatBatch(input('googlechat', { events })).body).text as string;
    expect(slack).toContain('&lt;!channel&gt; &lt;users/all&gt;');
    expect(chat).toContain('‹!channel› ‹users/all›');
    expect(slack).not.toMatch(/[<>]/);
    expect(chat).not.toMatch(/[<>]/);
  });

  it('a Teams card lists at most 10 facts and counts the rest in a final text block', () => {
    const body = JSON.parse(formatBatch(input('teams', { events: manyEvents(13, () => 'order.paid') })).body);
    const blocks = body.attachments[0].content.body as { type: string; facts?: unknown[] }[];
    const factSet = blocks.find((b) => b.type === 'FactSet')!;
    expect(factSet.facts).toHaveLength(10);
    expect(factSet.facts![9]).toEqual({ title: 'order.paid', value: 'evt_10' });
    expect(blocks.at(-1)).toEqual({ type: 'TextBlock', text: '…and 3 more', isSubtle: true, wrap: true });
  });
});

describe('every format', () => {
  it.each(FORMATS)('%s refuses an empty batch', (format) => {
    expect(() => formatBatch(input(format, { events: [] }))).toThrow('at least one event');
  });

  it.each(FORMATS)('%s produces compact JSON', (format) => {
    const { body } = formatBatch(input(format));
    expect(JSON.stringify(JSON.parse(body))).toBe(body);
  });
});

describe('user agent', () => {
  it('names hookline and its version', () => {
    expect(userAgent('1.2.3')).toBe('hookline/1.2.3');
  });
});
