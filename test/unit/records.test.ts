import { GeneratedIds, parseGeneratedId } from '../../src/publish/records';

describe('generated event ids', () => {
  it('share one key per publish and number the events in order', () => {
    const ids = new GeneratedIds();
    const [a, b] = [ids.newId(), ids.newId()];
    expect(a).toMatch(/^evt_[0-9a-f]{24}_00$/);
    expect(b).toBe(a.replace(/_00$/, '_01'));
    expect(parseGeneratedId(b)).toEqual({ key: ids.key, index: 1 });
    expect(ids.owns(a)).toBe(true);
    expect(new GeneratedIds().owns(a)).toBe(false);
  });

  it('reuse a given key, so a retried ingress activity makes the same ids', () => {
    const key = 'ab'.repeat(12);
    expect(new GeneratedIds(key).newId()).toBe(new GeneratedIds(key).newId());
    expect(() => new GeneratedIds('not-hex')).toThrow(/24 hex/);
  });

  it('stop at 100 per publish', () => {
    const ids = new GeneratedIds();
    for (let i = 0; i < 100; i++) ids.newId();
    expect(() => ids.newId()).toThrow(/100/);
  });

  it('are told apart from producer ids', () => {
    expect(parseGeneratedId('order-42-created')).toBeNull();
    expect(parseGeneratedId(`evt_${'a'.repeat(32)}`)).toBeNull();
    expect(parseGeneratedId(`evt_${'A'.repeat(24)}_01`)).toBeNull();
  });
});
