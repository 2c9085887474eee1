import {
  boundedKeyword,
  boundedKeywordList,
  SEARCH_ATTRIBUTE_VALUE_MAX_BYTES,
} from '../../src/temporal/search-attributes';

const jsonBytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v), 'utf8');

describe('search attribute values bounded to Temporal’s 2 KB limit', () => {
  it('keeps a value that fits as it is', () => {
    expect(boundedKeyword('https://example.com/hooks')).toBe('https://example.com/hooks');
    expect(boundedKeywordList(['a.*', 'b'])).toEqual(['a.*', 'b']);
  });

  it('cuts a keyword to the longest prefix whose JSON form fits (quotes and escapes count)', () => {
    const cut = boundedKeyword('h'.repeat(2048));
    expect(cut).toBe('h'.repeat(2046));
    expect(jsonBytes(cut)).toBe(SEARCH_ATTRIBUTE_VALUE_MAX_BYTES);
    const escaped = boundedKeyword('"'.repeat(2000));
    expect(jsonBytes(escaped)).toBeLessThanOrEqual(SEARCH_ATTRIBUTE_VALUE_MAX_BYTES);
    expect(escaped.length).toBe(1023);
  });

  it('never cuts inside a surrogate pair', () => {
    const cut = boundedKeyword('\u{1F600}'.repeat(600));
    expect(jsonBytes(cut)).toBeLessThanOrEqual(SEARCH_ATTRIBUTE_VALUE_MAX_BYTES);
    expect(cut).toBe('\u{1F600}'.repeat(cut.length / 2));
  });

  it('keeps the leading keywords of a list that fit together', () => {
    const list = Array.from({ length: 100 }, (_, i) => `t${i}.${'x'.repeat(250)}`);
    const kept = boundedKeywordList(list);
    expect(kept).toEqual(list.slice(0, kept.length));
    expect(jsonBytes(kept)).toBeLessThanOrEqual(SEARCH_ATTRIBUTE_VALUE_MAX_BYTES);
    expect(jsonBytes(list.slice(0, kept.length + 1))).toBeGreaterThan(SEARCH_ATTRIBUTE_VALUE_MAX_BYTES);
  });
});
