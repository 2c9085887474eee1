import { defineSearchAttributeKey } from '@temporalio/common';

/**
 * Custom search attributes on subscriber workflows, so operators can filter in the Web UI
 * (for example `HooklineTenant = "acme" AND HooklineStatus = "disabled"`).
 */
export const SA = {
  subscriptionId: defineSearchAttributeKey('HooklineSubscriptionId', 'KEYWORD'),
  tenant: defineSearchAttributeKey('HooklineTenant', 'KEYWORD'),
  targetHost: defineSearchAttributeKey('HooklineTargetHost', 'KEYWORD'),
  targetUrl: defineSearchAttributeKey('HooklineTargetUrl', 'KEYWORD'),
  eventTypes: defineSearchAttributeKey('HooklineEventTypes', 'KEYWORD_LIST'),
  /** active, paused, disabled, pending_validation, or deleted once the subscription is gone. */
  status: defineSearchAttributeKey('HooklineStatus', 'KEYWORD'),
} as const;

/** Name → CLI/operator type, for registering them on a server. */
export const SEARCH_ATTRIBUTE_TYPES: Record<string, 'Keyword' | 'KeywordList'> = Object.fromEntries(
  Object.values(SA).map((k) => [k.name, k.type === 'KEYWORD_LIST' ? 'KeywordList' : 'Keyword']),
);

/**
 * Temporal refuses a search attribute value over 2,048 bytes (`limit.searchAttributesSizeOfValue`,
 * the default of the dev server and of clusters), counted on the JSON-encoded value: a keyword's
 * quotes count, and a keyword list counts as one array. Hazard: a refused value fails the workflow
 * task with a non-retryable cause and the server TERMINATES the workflow (the subscriber when it
 * upserts; a start with such a value is refused). Values are cut to fit instead: they serve
 * operators' filtering in the Web UI, never routing or uniqueness.
 */
export const SEARCH_ATTRIBUTE_VALUE_MAX_BYTES = 2048;

/** UTF-8 length of a string, without TextEncoder or Buffer (this module runs in the workflow sandbox). */
export function utf8Length(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      bytes += 4;
      i++; // the low surrogate of the pair
    } else bytes += 3;
  }
  return bytes;
}

const fits = (value: unknown) => utf8Length(JSON.stringify(value)) <= SEARCH_ATTRIBUTE_VALUE_MAX_BYTES;

/** A keyword value cut (never inside a surrogate pair) to the longest prefix whose JSON form fits. */
export function boundedKeyword(value: string): string {
  if (fits(value)) return value;
  // Binary search on the prefix length: `lo` always fits, `hi` never does.
  let lo = 0;
  let hi = value.length;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (fits(value.slice(0, mid))) lo = mid;
    else hi = mid;
  }
  const last = value.charCodeAt(lo - 1);
  if (lo > 0 && last >= 0xd800 && last <= 0xdbff) lo--;
  return value.slice(0, lo);
}

/** The leading keywords of a list, as many as fit the limit together (each one cut to fit alone). */
export function boundedKeywordList(values: readonly string[]): string[] {
  const out: string[] = [];
  for (const value of values) {
    const keyword = boundedKeyword(value);
    if (!fits([...out, keyword])) break;
    out.push(keyword);
  }
  return out;
}
