/**
 * Canonical form of a subscription's target URL: the form stored, compared for uniqueness and
 * delivered to. Uses only the WHATWG `URL` global (no Node built-ins).
 */

/** Longest target URL accepted, in characters (of the input and of the normalised form). */
export const MAX_TARGET_URL_LENGTH = 2048;

export type TargetUrlReason = 'invalid_url' | 'unsupported_scheme' | 'credentials_not_allowed' | 'too_long';

/** A target URL the service will not deliver to. `reason` is stable; `message` is for people. */
export class TargetUrlError extends Error {
  override readonly name = 'TargetUrlError';

  constructor(
    readonly reason: TargetUrlReason,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * Parses `raw` with the WHATWG URL parser and returns its canonical `href`.
 *
 * The parser lowercases scheme and host, converts IDNs to punycode, rewrites numeric IPv4 forms
 * (`0x7f.1`, `2130706433`) to dotted quads, drops the scheme's default port, resolves `.`/`..`
 * path segments and percent-encodes what must be; the path and query are otherwise kept as given.
 * The fragment is dropped: it is never sent over HTTP.
 *
 * @throws TargetUrlError when the URL does not parse, is not http(s), carries credentials or is
 * longer than {@link MAX_TARGET_URL_LENGTH}.
 */
export function normalizeTargetUrl(raw: string): string {
  // Checked before parsing so an oversized input costs nothing, and after, since encoding grows it.
  if (raw.length > MAX_TARGET_URL_LENGTH) throw tooLong();

  let url: URL;
  try {
    url = new URL(raw);
  } catch (err) {
    throw new TargetUrlError('invalid_url', 'not a valid absolute URL', { cause: err });
  }

  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TargetUrlError(
      'unsupported_scheme',
      `scheme ${url.protocol.slice(0, -1)} is not supported; use http or https`,
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new TargetUrlError(
      'credentials_not_allowed',
      'credentials in the URL are not allowed; use static headers instead',
    );
  }
  if (url.hostname === '') throw new TargetUrlError('invalid_url', 'the URL has no host');

  url.hash = '';
  const normalized = url.href;
  if (normalized.length > MAX_TARGET_URL_LENGTH) throw tooLong();
  return normalized;
}

function tooLong(): TargetUrlError {
  return new TargetUrlError('too_long', `the URL is longer than ${MAX_TARGET_URL_LENGTH} characters`);
}
