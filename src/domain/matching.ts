/**
 * Which events a subscription takes. Pure module: no Node built-ins, imported by workflow code.
 */
import type { HooklineEvent, SubscriptionFilter } from './types';

/** One segment of an event type: no dots, never empty. */
const SEGMENT = '[A-Za-z0-9_:/-]+';
const EXACT_TYPE = new RegExp(`^${SEGMENT}(?:\\.${SEGMENT})*$`);
const PREFIX_PATTERN = new RegExp(`^${SEGMENT}(?:\\.${SEGMENT})*\\.\\*$`);

/** The pattern that matches every event type. */
export const MATCH_ALL = '*';

/**
 * Every valid subscription pattern in one expression: `*`, an exact type, or a prefix pattern. The API
 * schema validates with it, so the OpenAPI document states it as the items' `pattern`.
 */
export const EVENT_TYPE_PATTERN = new RegExp(`^(?:\\*|${SEGMENT}(?:\\.${SEGMENT})*(?:\\.\\*)?)$`);

/** An exact type (`order.created`), a prefix pattern (`order.*`), or `*`. */
export function isValidEventTypePattern(pattern: string): boolean {
  return pattern === MATCH_ALL || EXACT_TYPE.test(pattern) || PREFIX_PATTERN.test(pattern);
}

/**
 * True when any pattern matches `type`. `order.*` matches `order.created` and `order.item.added`,
 * but neither `order` nor `orders.created`. Patterns are compared literally otherwise, so an
 * invalid pattern matches nothing a publisher can send.
 */
export function matchesEventType(patterns: readonly string[], type: string): boolean {
  return patterns.some((pattern) => {
    if (pattern === MATCH_ALL) return true;
    if (pattern.endsWith('.*')) {
      // Keeps the trailing dot: `order.` must be followed by at least one more character.
      const prefix = pattern.slice(0, -1);
      return type.length > prefix.length && type.startsWith(prefix);
    }
    return pattern === type;
  });
}

/** The parts of an event that routing looks at. */
export type RoutableEvent = Pick<HooklineEvent, 'type' | 'subject' | 'category' | 'labels'>;

/**
 * Every part of the filter must hold: event type, subject prefix, category, labels.
 * A null (or empty) filter part places no condition; a null event part fails a non-null condition.
 */
export function matchesFilter(filter: SubscriptionFilter, event: RoutableEvent): boolean {
  if (!matchesEventType(filter.eventTypes, event.type)) return false;

  if (filter.subject !== null) {
    if (event.subject === null || !event.subject.startsWith(filter.subject)) return false;
  }

  if (filter.categories !== null && filter.categories.length > 0) {
    if (event.category === null || !filter.categories.includes(event.category)) return false;
  }

  if (filter.labels !== null) {
    for (const [key, value] of Object.entries(filter.labels)) {
      // Own properties only: a label named `constructor` must not match Object.prototype.
      if (!Object.hasOwn(event.labels, key) || event.labels[key] !== value) return false;
    }
  }

  return true;
}
