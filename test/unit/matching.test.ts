import {
  isValidEventTypePattern,
  matchesEventType,
  matchesFilter,
  type RoutableEvent,
} from '../../src/domain/matching';
import type { SubscriptionFilter } from '../../src/domain/types';

describe('event type patterns', () => {
  it.each([
    'order.created',
    'order',
    'order.item.added',
    'Order_2.created-v1',
    'urn:shop/orders.created',
    'order.*',
    'order.item.*',
    '*',
  ])('accepts %s', (pattern) => {
    expect(isValidEventTypePattern(pattern)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['a leading dot', '.order'],
    ['a trailing dot', 'order.'],
    ['an empty segment', 'order..created'],
    ['a wildcard in the middle', 'order.*.created'],
    ['a wildcard without a dot', 'order*'],
    ['a bare prefix wildcard', '.*'],
    ['a double wildcard', '**'],
    ['whitespace', 'order created'],
    ['other punctuation', 'order.created!'],
  ])('refuses %s', (_what, pattern) => {
    expect(isValidEventTypePattern(pattern)).toBe(false);
  });
});

describe('matching an event type', () => {
  it('matches an exact type and nothing else', () => {
    expect(matchesEventType(['order.created'], 'order.created')).toBe(true);
    expect(matchesEventType(['order.created'], 'order.created.v2')).toBe(false);
    expect(matchesEventType(['order.created'], 'order')).toBe(false);
  });

  it('matches a prefix pattern at any depth below the prefix', () => {
    expect(matchesEventType(['order.*'], 'order.created')).toBe(true);
    expect(matchesEventType(['order.*'], 'order.item.added')).toBe(true);
  });

  it('does not let a prefix pattern match the prefix itself or a longer word', () => {
    expect(matchesEventType(['order.*'], 'order')).toBe(false);
    expect(matchesEventType(['order.*'], 'orders.created')).toBe(false);
    expect(matchesEventType(['order.*'], 'orderfoo')).toBe(false);
  });

  it('lets * match every type', () => {
    expect(matchesEventType(['*'], 'anything.at.all')).toBe(true);
  });

  it('matches when any one of several patterns does', () => {
    expect(matchesEventType(['invoice.paid', 'order.*'], 'order.shipped')).toBe(true);
    expect(matchesEventType(['invoice.paid', 'order.*'], 'invoice.voided')).toBe(false);
  });

  it('matches nothing with no patterns', () => {
    expect(matchesEventType([], 'order.created')).toBe(false);
  });
});

describe('matching a subscription filter', () => {
  const filter = (overrides: Partial<SubscriptionFilter> = {}): SubscriptionFilter => ({
    eventTypes: ['*'],
    subject: null,
    categories: null,
    labels: null,
    ...overrides,
  });
  const event = (overrides: Partial<RoutableEvent> = {}): RoutableEvent => ({
    type: 'order.created',
    subject: 'orders/42',
    category: 'order',
    labels: { pool: 'prod-1', region: 'eu' },
    ...overrides,
  });

  it('takes every event when only the type is constrained and it is *', () => {
    expect(matchesFilter(filter(), event())).toBe(true);
    expect(matchesFilter(filter(), event({ subject: null, category: null, labels: {} }))).toBe(true);
  });

  it('refuses an event whose type does not match, whatever else matches', () => {
    expect(matchesFilter(filter({ eventTypes: ['invoice.*'], subject: 'orders/' }), event())).toBe(false);
  });

  describe('subject', () => {
    it('takes events whose subject starts with the filter subject', () => {
      expect(matchesFilter(filter({ subject: 'orders/' }), event())).toBe(true);
      expect(matchesFilter(filter({ subject: 'orders/42' }), event())).toBe(true);
    });

    it('refuses events with another subject', () => {
      expect(matchesFilter(filter({ subject: 'invoices/' }), event())).toBe(false);
      expect(matchesFilter(filter({ subject: 'orders/42/items' }), event())).toBe(false);
    });

    it('refuses events without a subject when the filter has one', () => {
      expect(matchesFilter(filter({ subject: 'orders/' }), event({ subject: null }))).toBe(false);
    });
  });

  describe('categories', () => {
    it('takes events whose category is listed', () => {
      expect(matchesFilter(filter({ categories: ['input', 'order'] }), event())).toBe(true);
    });

    it('refuses events whose category is not listed, or that have none', () => {
      expect(matchesFilter(filter({ categories: ['input'] }), event())).toBe(false);
      expect(matchesFilter(filter({ categories: ['order'] }), event({ category: null }))).toBe(false);
    });

    it('treats an empty list like no condition', () => {
      expect(matchesFilter(filter({ categories: [] }), event({ category: null }))).toBe(true);
    });
  });

  describe('labels', () => {
    it('takes events carrying every filter label with the same value, extra labels allowed', () => {
      expect(matchesFilter(filter({ labels: { pool: 'prod-1' } }), event())).toBe(true);
      expect(matchesFilter(filter({ labels: { pool: 'prod-1', region: 'eu' } }), event())).toBe(true);
    });

    it('refuses events missing a label or carrying another value', () => {
      expect(matchesFilter(filter({ labels: { pool: 'prod-2' } }), event())).toBe(false);
      expect(matchesFilter(filter({ labels: { pool: 'prod-1', tier: 'gold' } }), event())).toBe(false);
    });

    it('treats an empty label map like no condition', () => {
      expect(matchesFilter(filter({ labels: {} }), event({ labels: {} }))).toBe(true);
    });

    it('does not mistake inherited object properties for labels', () => {
      expect(matchesFilter(filter({ labels: { constructor: 'x' } }), event({ labels: {} }))).toBe(false);
      expect(matchesFilter(filter({ labels: { toString: '[object Object]' } }), event({ labels: {} }))).toBe(
        false,
      );
    });
  });

  it('requires every condition at once', () => {
    const all = filter({
      eventTypes: ['order.*'],
      subject: 'orders/',
      categories: ['order'],
      labels: { pool: 'prod-1' },
    });
    expect(matchesFilter(all, event())).toBe(true);
    expect(matchesFilter(all, event({ labels: { pool: 'prod-2' } }))).toBe(false);
    expect(matchesFilter(all, event({ category: 'input' }))).toBe(false);
  });
});
