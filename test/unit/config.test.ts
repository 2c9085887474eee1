import { ConfigError, loadConfig } from '../../src/config';

describe('configuration from the environment', () => {
  it('uses the documented defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.dataDir).toMatch(/\/data$/);
    expect(config.temporal).toEqual({
      address: null,
      namespace: 'default',
      taskQueue: 'hookline',
      devPort: 7233,
      uiPort: 8233,
    });
    expect(config.apiKeys).toBeNull();
    expect(config.publicBaseUrl).toBe('http://localhost:3000');
    expect(config.allowedTargetNetworks).toEqual([]);
    expect(config.logLevel).toBe('info');
  });

  it('parses API keys, target networks and a Temporal address', () => {
    const config = loadConfig({
      API_KEYS: 'acme:0123456789abcdef0123, globex:fedcba9876543210fedc',
      ALLOWED_TARGET_NETWORKS: '10.0.0.0/8, ::1/128',
      TEMPORAL_ADDRESS: 'temporal:7233',
      PUBLIC_BASE_URL: 'https://hooks.example.com/',
    });
    expect(config.apiKeys).toEqual([
      { tenant: 'acme', key: '0123456789abcdef0123' },
      { tenant: 'globex', key: 'fedcba9876543210fedc' },
    ]);
    expect(config.allowedTargetNetworks).toEqual(['10.0.0.0/8', '::1/128']);
    expect(config.temporal.address).toBe('temporal:7233');
    expect(config.publicBaseUrl).toBe('https://hooks.example.com');
  });

  it("leaves the worker's workflow cache to the SDK unless WORKER_MAX_CACHED_WORKFLOWS sets it", () => {
    expect(loadConfig({}).workerMaxCachedWorkflows).toBeNull();
    expect(loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: '400' }).workerMaxCachedWorkflows).toBe(400);
    expect(loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: '0' }).workerMaxCachedWorkflows).toBe(0);
  });

  it.each([
    ['WORKER_MAX_CACHED_WORKFLOWS', '-1'],
    ['WORKER_MAX_CACHED_WORKFLOWS', 'many'],
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['API_KEYS', 'no-colon-here'],
    ['API_KEYS', 'acme:short'],
    ['ALLOWED_TARGET_NETWORKS', '10.0.0.0/33'],
    ['ALLOWED_TARGET_NETWORKS', 'example.com/8'],
    ['TEMPORAL_ADDRESS', 'http://temporal:7233'],
    ['LOG_LEVEL', 'loud'],
    ['PUBLIC_BASE_URL', 'ftp://example.com'],
    ['ADMIN_API_KEYS', 'too-short'],
    ['DEFAULT_EVENTS_PER_MONTH', '-5'],
    ['DEFAULT_EVENTS_PER_MONTH', 'lots'],
  ])('refuses %s=%s with a message naming the setting', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(name));
  });

  it('keeps digests of ADMIN_API_KEYS, never the keys, and refuses one that is also a tenant key', () => {
    const config = loadConfig({ ADMIN_API_KEYS: 'operator-key-0123456789, second-operator-key-0123' });
    expect(config.adminKeyDigests).toHaveLength(2);
    expect(JSON.stringify(config)).not.toContain('operator-key-0123456789');
    expect(loadConfig({}).adminKeyDigests).toEqual([]);
    expect(() =>
      loadConfig({ API_KEYS: 'acme:shared-key-0123456789', ADMIN_API_KEYS: 'shared-key-0123456789' }),
    ).toThrow(/ADMIN_API_KEYS/);
  });

  it('reads DEFAULT_EVENTS_PER_MONTH (unset: no cap)', () => {
    expect(loadConfig({}).defaultEventsPerMonth).toBeNull();
    expect(loadConfig({ DEFAULT_EVENTS_PER_MONTH: '10000' }).defaultEventsPerMonth).toBe(10000);
    expect(loadConfig({ DEFAULT_EVENTS_PER_MONTH: '0' }).defaultEventsPerMonth).toBe(0);
  });
});
