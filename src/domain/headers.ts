/** Headers a subscription's static `headers` may never set: signature, content, transport and origin. */
export const RESERVED_HEADERS: ReadonlySet<string> = new Set([
  'content-type',
  'content-length',
  'content-encoding',
  'user-agent',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'webhook-request-origin',
  'host',
  'connection',
  'transfer-encoding',
  // Hop-by-hop headers the HTTP client refuses to send.
  'keep-alive',
  'upgrade',
  'expect',
  'te',
  'proxy-connection',
]);

/** True when a static header of this name would override a signature, content or origin header. */
export function isReservedHeader(name: string): boolean {
  return RESERVED_HEADERS.has(name.toLowerCase());
}
