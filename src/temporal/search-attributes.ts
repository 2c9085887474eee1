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
  status: defineSearchAttributeKey('HooklineStatus', 'KEYWORD'),
} as const;

/** Name → CLI/operator type, for registering them on a server. */
export const SEARCH_ATTRIBUTE_TYPES: Record<string, 'Keyword' | 'KeywordList'> = Object.fromEntries(
  Object.values(SA).map((k) => [k.name, k.type === 'KEYWORD_LIST' ? 'KeywordList' : 'Keyword']),
);
