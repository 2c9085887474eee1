/**
 * The request body of one delivery, per subscription format. Pure: no Node built-ins, so any code
 * (workflows included) may import it. Bodies are compact JSON; the signature covers these exact bytes.
 *
 * CloudEvents mapping (JSON format 1.0): `category` becomes the extension attribute `category`; each
 * label whose name is a valid attribute name (lowercase a-z and 0-9 only) becomes `label<name>`, so
 * `{"pool": "prod-1"}` is sent as `"labelpool": "prod-1"`. Labels with other names (upper case,
 * dashes, dots, ...) have no spec-valid attribute name and are left out; the `raw` format carries
 * every label. Null `subject` and `category` are omitted rather than sent as null. `source` must be a
 * URI-reference (RFC 3986): a producer's free-form source (`Billing Service`, `café`) is sent
 * percent-encoded (`Billing%20Service`, `caf%C3%A9`); one that already is a URI-reference is sent as is.
 */
import type { DeliveryFormat, HooklineEvent } from '../domain/types';

export const CONTENT_TYPE_JSON = 'application/json';
export const CONTENT_TYPE_CLOUDEVENT = 'application/cloudevents+json';
export const CONTENT_TYPE_CLOUDEVENTS_BATCH = 'application/cloudevents-batch+json';

/** Events named one by one in chat summaries (slack, googlechat, teams); the rest are counted. */
export const SUMMARY_MAX_LISTED = 10;
/** Characters (code points) of one event field shown in a chat summary before it is cut with `…`. */
export const SUMMARY_MAX_FIELD = 80;

export interface FormatBatchInput {
  format: DeliveryFormat;
  /** `msg_…`, the batch's `webhook-id`: the same on every retry. */
  msgId: string;
  subscriptionId: string;
  /** The subscription's setting (1..100); 1 selects CloudEvents structured mode. */
  maxBatchSize: number;
  /** At least one event, oldest first. */
  events: HooklineEvent[];
  /** Hookline's version, named in chat summaries. */
  version: string;
}

export interface FormattedBatch {
  contentType: string;
  body: string;
}

/** The `user-agent` of every delivery. */
export function userAgent(version: string): string {
  return `hookline/${version}`;
}

export function formatBatch(input: FormatBatchInput): FormattedBatch {
  if (input.events.length === 0) throw new Error('a delivery carries at least one event');
  switch (input.format) {
    case 'raw':
      return { contentType: CONTENT_TYPE_JSON, body: rawBody(input) };
    case 'event':
      return { contentType: CONTENT_TYPE_JSON, body: eventBody(input) };
    case 'cloudevents':
      return cloudEvents(input);
    case 'slack':
      return { contentType: CONTENT_TYPE_JSON, body: JSON.stringify({ text: slackText(summarise(input)) }) };
    case 'googlechat':
      return {
        contentType: CONTENT_TYPE_JSON,
        body: JSON.stringify({ text: googleChatText(summarise(input)) }),
      };
    case 'teams':
      return { contentType: CONTENT_TYPE_JSON, body: JSON.stringify(teamsMessage(summarise(input))) };
    default: {
      const unknown: never = input.format;
      throw new Error(`unknown delivery format: ${String(unknown)}`);
    }
  }
}

// ---- raw ----

/** One event as `raw` and `event` send it. */
function eventObject(e: HooklineEvent) {
  // Key order is part of the format (test/fixtures/golden pins it); `data` is always present, null when absent.
  return {
    id: e.id,
    type: e.type,
    source: e.source,
    subject: e.subject,
    category: e.category,
    labels: e.labels,
    time: e.time,
    data: e.data === undefined ? null : e.data,
  };
}

function rawBody({ msgId, subscriptionId, events }: FormatBatchInput): string {
  return JSON.stringify({ id: msgId, subscriptionId, events: events.map(eventObject) });
}

// ---- event ----

/**
 * The event object itself (the subscription's maxBatchSize is 1). A batch cut before the format
 * became `event` may still hold several events (a cut batch is fixed across its retries): it goes as
 * a JSON array of event objects rather than losing any.
 */
function eventBody({ events }: FormatBatchInput): string {
  return JSON.stringify(events.length === 1 ? eventObject(events[0]!) : events.map(eventObject));
}

// ---- cloudevents ----

/** CloudEvents attribute names: lowercase ASCII letters and digits only. */
const ATTRIBUTE_NAME = /^[a-z0-9]+$/;

/** One event as a CloudEvents 1.0 JSON object (structured mode). */
export function toCloudEvent(e: HooklineEvent): Record<string, unknown> {
  const ce: Record<string, unknown> = {
    specversion: '1.0',
    id: e.id,
    source: uriReference(e.source),
    type: e.type,
  };
  // The spec requires a present subject to be non-empty.
  if (e.subject !== null && e.subject !== '') ce.subject = e.subject;
  ce.time = e.time;
  ce.datacontenttype = CONTENT_TYPE_JSON;
  if (e.category !== null) ce.category = e.category;
  for (const [name, value] of Object.entries(e.labels)) {
    // `label` + a valid name is itself valid and never a core attribute name.
    if (ATTRIBUTE_NAME.test(name)) ce[`label${name}`] = value;
  }
  if (e.data !== undefined) ce.data = e.data;
  return ce;
}

/** Characters a URI-reference may carry literally (RFC 3986 unreserved, sub-delims, `:@/?`). */
const URI_CHAR = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/?]$/;
/** `scheme:` as RFC 3986 spells it; anything else before a first `:` makes that `:` invalid. */
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;
/** `scheme://[v6]` or `//[v6]`: the only place where `[` and `]` may stand literally. */
const IP_LITERAL_AUTHORITY =
  /^(?:[A-Za-z][A-Za-z0-9+.-]*:)?\/\/(?:[A-Za-z0-9\-._~!$&'()*+,;=:%]*@)?\[[0-9A-Fa-f:.]+\]/;

function percentEncode(char: string): string {
  try {
    return encodeURIComponent(char);
  } catch {
    return '%EF%BF%BD'; // a lone surrogate has no UTF-8 form: U+FFFD stands in
  }
}

/**
 * `value` as a URI-reference: characters a URI may not hold literally are percent-encoded as UTF-8;
 * existing `%XX` escapes, a first `#`, and the brackets of an IP-literal host are kept. A value that
 * already is a URI-reference comes back unchanged.
 */
export function uriReference(value: string): string {
  const literal = IP_LITERAL_AUTHORITY.exec(value)?.[0] ?? '';
  // Without a scheme, a `:` in the first path segment would be read as one (RFC 3986 path-noscheme).
  const colonAllowed = SCHEME.test(value);
  let out = literal;
  let inFirstSegment = literal === '' && !colonAllowed;
  let inFragment = false;
  const chars = Array.from(value.slice(literal.length));
  for (let i = 0; i < chars.length; i++) {
    const char = chars[i]!;
    if (char === '/' || char === '?' || char === '#') inFirstSegment = false;
    if (char === '%' && /^[0-9A-Fa-f]{2}$/.test(`${chars[i + 1] ?? ''}${chars[i + 2] ?? ''}`)) out += char;
    else if (char === '#' && !inFragment) {
      inFragment = true;
      out += char;
    } else if (char === ':' && inFirstSegment) out += '%3A';
    else if (URI_CHAR.test(char)) out += char;
    else out += percentEncode(char);
  }
  return out;
}

function cloudEvents({ maxBatchSize, events }: FormatBatchInput): FormattedBatch {
  // A batch cut before maxBatchSize was lowered to 1 may still hold several events: it goes in batch mode.
  if (maxBatchSize === 1 && events.length === 1) {
    return { contentType: CONTENT_TYPE_CLOUDEVENT, body: JSON.stringify(toCloudEvent(events[0]!)) };
  }
  return { contentType: CONTENT_TYPE_CLOUDEVENTS_BATCH, body: JSON.stringify(events.map(toCloudEvent)) };
}

// ---- chat summaries (slack, googlechat, teams) ----

interface Summary {
  /** `Hookline: 3 events` */
  headline: string;
  /** Batch and subscription ids and the sender's version. */
  context: string;
  /** `Types: order.created ×2, order.paid` */
  types: string;
  /** The first SUMMARY_MAX_LISTED events, oldest first. */
  listed: { type: string; id: string }[];
  /** Events not listed. */
  more: number;
}

/** One line, at most SUMMARY_MAX_FIELD code points: a producer's value cannot flood a chat message. */
function clip(value: string): string {
  const chars = Array.from(value.replace(/\s+/g, ' ').trim());
  return chars.length <= SUMMARY_MAX_FIELD
    ? chars.join('')
    : `${chars.slice(0, SUMMARY_MAX_FIELD - 1).join('')}…`;
}

function andMore(count: number): string {
  return `…and ${count} more`;
}

function summarise({ msgId, subscriptionId, events, version }: FormatBatchInput): Summary {
  const counts: [string, number][] = [];
  for (const e of events) {
    const entry = counts.find(([type]) => type === e.type);
    if (entry) entry[1] += 1;
    else counts.push([e.type, 1]);
  }
  const shownTypes = counts
    .slice(0, SUMMARY_MAX_LISTED)
    .map(([type, n]) => (n > 1 ? `${clip(type)} ×${n}` : clip(type)));
  if (counts.length > SUMMARY_MAX_LISTED) shownTypes.push(andMore(counts.length - SUMMARY_MAX_LISTED));
  const n = events.length;
  return {
    headline: `Hookline: ${n} ${n === 1 ? 'event' : 'events'}`,
    context: `Batch ${clip(msgId)} for subscription ${clip(subscriptionId)} (${userAgent(clip(version))})`,
    types: `Types: ${shownTypes.join(', ')}`,
    listed: events.slice(0, SUMMARY_MAX_LISTED).map((e) => ({ type: clip(e.type), id: clip(e.id) })),
    more: Math.max(0, n - SUMMARY_MAX_LISTED),
  };
}

function summaryLines(s: Summary, escape: (text: string) => string): string {
  const lines = [`*${escape(s.headline)}*`, escape(s.context), escape(s.types)];
  for (const e of s.listed) lines.push(`• ${escape(e.type)}: ${escape(e.id)}`);
  if (s.more > 0) lines.push(andMore(s.more));
  return lines.join('\n');
}

/** Slack mrkdwn: `&`, `<` and `>` are control characters (mentions, links) and must be entities. */
function slackText(s: Summary): string {
  return summaryLines(s, (t) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'));
}

/**
 * Google Chat parses `<users/all>` (a mention) and `<url|text>` (a link) and documents no escape, so
 * angle brackets in event fields are shown as the look-alikes ‹ and ›.
 */
function googleChatText(s: Summary): string {
  return summaryLines(s, (t) => t.replace(/</g, '‹').replace(/>/g, '›'));
}

/** A Teams incoming-webhook message with one Adaptive Card (1.4) attachment. */
function teamsMessage(s: Summary): unknown {
  const body: unknown[] = [
    { type: 'TextBlock', text: s.headline, weight: 'Bolder', size: 'Medium', wrap: true },
    { type: 'TextBlock', text: s.context, isSubtle: true, spacing: 'None', wrap: true },
    { type: 'TextBlock', text: s.types, wrap: true },
    { type: 'FactSet', facts: s.listed.map((e) => ({ title: e.type, value: e.id })) },
  ];
  if (s.more > 0) body.push({ type: 'TextBlock', text: andMore(s.more), isSubtle: true, wrap: true });
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body,
        },
      },
    ],
  };
}
