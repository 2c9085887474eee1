import { MAX_TARGET_URL_LENGTH, normalizeTargetUrl, TargetUrlError } from '../../src/net/url';

function reasonFor(raw: string): string | undefined {
  try {
    normalizeTargetUrl(raw);
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(TargetUrlError);
    return (err as TargetUrlError).reason;
  }
}

describe('normalising a target URL', () => {
  it.each([
    ['lowercases scheme and host', 'HTTPS://Hooks.Example.COM/In', 'https://hooks.example.com/In'],
    ['drops the default http port', 'http://example.com:80/hooks', 'http://example.com/hooks'],
    ['drops the default https port', 'https://example.com:443/hooks', 'https://example.com/hooks'],
    ['keeps a non-default port', 'https://example.com:8443/hooks', 'https://example.com:8443/hooks'],
    [
      'keeps port 443 on http, which is not its default',
      'http://example.com:443/',
      'http://example.com:443/',
    ],
    ['drops the fragment', 'https://example.com/hooks#section', 'https://example.com/hooks'],
    ['drops an empty fragment', 'https://example.com/hooks#', 'https://example.com/hooks'],
    [
      'keeps path case and query as given',
      'https://example.com/A/b?Token=X&y=1',
      'https://example.com/A/b?Token=X&y=1',
    ],
    ['adds the root path', 'https://example.com', 'https://example.com/'],
    ['lowercases an IPv6 literal', 'http://[FD00::ABCD]:8080/x', 'http://[fd00::abcd]:8080/x'],
    ['writes numeric IPv4 forms as dotted quads', 'http://0x7f.1/', 'http://127.0.0.1/'],
    [
      'converts an international domain name to punycode',
      'https://bücher.example/',
      'https://xn--bcher-kva.example/',
    ],
  ])('%s', (_what, raw, expected) => {
    expect(normalizeTargetUrl(raw)).toBe(expected);
  });

  it('gives the same form to URLs that differ only in scheme/host case and default port', () => {
    expect(normalizeTargetUrl('HTTPS://EXAMPLE.com:443/hooks')).toBe(
      normalizeTargetUrl('https://example.com/hooks'),
    );
  });

  it.each([
    ['ftp://example.com/hooks'],
    ['file:///etc/passwd'],
    ['javascript:alert(1)'],
    ['ws://example.com/socket'],
    ['gopher://example.com/'],
  ])('refuses the non-http scheme of %s', (raw) => {
    expect(reasonFor(raw)).toBe('unsupported_scheme');
  });

  it.each([
    ['https://user:pass@example.com/'],
    ['https://user@example.com/'],
    ['https://:secret@example.com/'],
  ])('refuses credentials in %s', (raw) => {
    expect(reasonFor(raw)).toBe('credentials_not_allowed');
  });

  it.each([
    [''],
    ['not a url'],
    ['/relative/path'],
    ['https://'],
    ['http://exa mple.com/'],
    ['https://[::1/'],
  ])('refuses %j as not a URL', (raw) => {
    expect(reasonFor(raw)).toBe('invalid_url');
  });

  it(`accepts a URL of exactly ${MAX_TARGET_URL_LENGTH} characters and refuses one longer`, () => {
    const base = 'https://example.com/';
    const fits = base + 'a'.repeat(MAX_TARGET_URL_LENGTH - base.length);
    expect(normalizeTargetUrl(fits)).toBe(fits);
    expect(reasonFor(fits + 'a')).toBe('too_long');
  });

  it('refuses a URL that only grows past the limit when percent-encoded', () => {
    const raw = `https://example.com/${' '.repeat(1000)}x`; // each space becomes %20
    expect(raw.length).toBeLessThanOrEqual(MAX_TARGET_URL_LENGTH);
    expect(reasonFor(raw)).toBe('too_long');
  });

  it('keeps the parser error as the cause and names the error', () => {
    try {
      normalizeTargetUrl('nope');
      throw new Error('expected a TargetUrlError');
    } catch (err) {
      expect(err).toBeInstanceOf(TargetUrlError);
      expect(err).toBeInstanceOf(Error);
      expect((err as TargetUrlError).name).toBe('TargetUrlError');
      // Node's URL throws from another realm under Jest, so compare by code, not by class.
      expect((err as TargetUrlError).cause).toMatchObject({ code: 'ERR_INVALID_URL' });
    }
  });
});
