import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, LookupFunction } from 'node:net';
import { Agent, request } from 'undici';
import {
  createTargetGuard,
  forbiddenReason,
  guardedLookup,
  isForbiddenAddress,
  parseAllowedNetworks,
  refusalReason,
  TargetForbiddenError,
  TargetResolutionError,
  type HostLookup,
} from '../../src/net/ssrf';
import { TargetUrlError } from '../../src/net/url';

/** A resolver answering from a fixed table, asynchronously like the real one. */
function fakeLookup(table: Record<string, string[]>): jest.MockedFunction<HostLookup> {
  return jest.fn((hostname: string) => {
    const addresses = table[hostname];
    if (!addresses) {
      return Promise.reject(
        Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }),
      );
    }
    return Promise.resolve(addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
  });
}

/** A `dns.lookup`-shaped resolver answering from a fixed table. */
function fakeDnsLookup(table: Record<string, string[]>): LookupFunction {
  return (hostname, _options, callback) => {
    setImmediate(() => {
      const addresses = table[hostname];
      if (!addresses) {
        callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
        return;
      }
      callback(
        null,
        addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
      );
    });
  };
}

/** Calls a lookup function and collects what it called back with. */
function callLookup(
  lookup: LookupFunction,
  hostname: string,
  options: { all?: boolean; family?: number },
): Promise<{ err: NodeJS.ErrnoException | null; address: string | LookupAddress[]; family?: number }> {
  return new Promise((resolve) => {
    lookup(hostname, options, (err, address, family) => resolve({ err, address, family }));
  });
}

describe('forbidden addresses', () => {
  it.each([
    ['0.0.0.0', 'unspecified'],
    ['0.255.255.255', 'unspecified'],
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['169.254.0.1', 'link_local'],
    ['169.254.169.254', 'cloud_metadata'],
    ['100.100.100.200', 'cloud_metadata'],
    ['100.64.0.1', 'shared_address'],
    ['100.127.255.255', 'shared_address'],
    ['192.0.0.8', 'reserved'],
    ['192.0.2.10', 'documentation'],
    ['198.51.100.10', 'documentation'],
    ['203.0.113.10', 'documentation'],
    ['192.88.99.1', 'reserved'],
    ['198.18.0.1', 'benchmarking'],
    ['198.19.255.255', 'benchmarking'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'broadcast'],
  ])('refuses IPv4 %s as %s', (ip, reason) => {
    expect(forbiddenReason(ip)).toBe(reason);
    expect(isForbiddenAddress(ip)).toBe(true);
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '93.184.216.34',
    '9.255.255.255', // just below 10/8
    '11.0.0.0', // just above 10/8
    '172.15.255.255', // just below 172.16/12
    '172.32.0.0', // just above 172.16/12
    '100.63.255.255', // just below 100.64/10
    '100.128.0.0', // just above 100.64/10
    '169.253.255.255',
    '192.167.255.255',
    '198.17.255.255', // just below 198.18/15
    '198.20.0.0', // just above 198.18/15
    '223.255.255.255', // just below multicast
  ])('allows the public IPv4 address %s', (ip) => {
    expect(forbiddenReason(ip)).toBeNull();
    expect(isForbiddenAddress(ip)).toBe(false);
  });

  it.each([
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['[::1]', 'loopback'],
    ['fe80::1', 'link_local'],
    ['fe80::1%eth0', 'link_local'],
    ['FEBF:FFFF::1', 'link_local'],
    ['fc00::1', 'unique_local'],
    ['fd12:3456:789a::1', 'unique_local'],
    ['fd00:ec2::254', 'cloud_metadata'],
    ['fd00:ec2:0:0:0:0:0:254', 'cloud_metadata'],
    ['ff02::1', 'multicast'],
    ['ff05::1:3', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['3fff::1', 'documentation'],
    ['2001:2::1', 'benchmarking'],
    ['2001::1', 'reserved'], // Teredo
    ['100::1', 'reserved'], // discard-only
    ['fec0::1', 'reserved'], // deprecated site-local
    ['::127.0.0.1', 'reserved'], // deprecated IPv4-compatible
    ['64:ff9b:1::a00:1', 'reserved'], // local-use NAT64
    ['5f00::1', 'reserved'], // outside global unicast
  ])('refuses IPv6 %s as %s', (ip, reason) => {
    expect(forbiddenReason(ip)).toBe(reason);
  });

  it.each(['2606:4700:4700::1111', '2a00:1450:4001:81c::200e', '2001:4860:4860::8888', '2002:808:808::1'])(
    'allows the public IPv6 address %s',
    (ip) => {
      expect(forbiddenReason(ip)).toBeNull();
    },
  );

  it.each([
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['0:0:0:0:0:ffff:7f00:1', 'loopback'],
    ['::FFFF:10.1.2.3', 'private'],
    ['::ffff:a9fe:a9fe', 'cloud_metadata'],
    ['::ffff:192.168.0.1', 'private'],
  ])('judges the IPv4-mapped address %s by its IPv4 address (%s)', (ip, reason) => {
    expect(forbiddenReason(ip)).toBe(reason);
  });

  it('allows an IPv4-mapped public address', () => {
    expect(forbiddenReason('::ffff:8.8.8.8')).toBeNull();
  });

  it.each([
    ['64:ff9b::127.0.0.1', 'loopback'],
    ['64:ff9b::a00:1', 'private'],
    ['64:ff9b::a9fe:a9fe', 'cloud_metadata'],
  ])('judges the NAT64 address %s by the IPv4 address it translates to (%s)', (ip, reason) => {
    expect(forbiddenReason(ip)).toBe(reason);
  });

  it('allows a NAT64 address of a public IPv4 address', () => {
    expect(forbiddenReason('64:ff9b::8.8.8.8')).toBeNull();
  });

  it.each([
    ['2002:7f00:1::1', 'loopback'],
    ['2002:c0a8:101::1', 'private'],
    ['2002:a9fe:a9fe::', 'cloud_metadata'],
  ])('refuses the 6to4 address %s whose IPv4 site is internal (%s)', (ip, reason) => {
    expect(forbiddenReason(ip)).toBe(reason);
  });

  it.each([
    '',
    'localhost',
    'example.com',
    '127.1',
    '0x7f000001',
    '2130706433',
    '256.0.0.1',
    '1::2::3',
    '::ffff:1.2.3',
  ])('fails closed on %j, which is not an IP address', (ip) => {
    expect(forbiddenReason(ip)).toBe('invalid_address');
  });
});

describe('allowed target networks', () => {
  it('parses IPv4 and IPv6 CIDRs, skipping blank entries', () => {
    const allowed = parseAllowedNetworks(['10.0.0.0/8', ' fd00::/8 ', '', '127.0.0.1/32']);
    expect(allowed.check('10.1.2.3', 'ipv4')).toBe(true);
    expect(allowed.check('fd12::1', 'ipv6')).toBe(true);
    expect(allowed.check('127.0.0.1', 'ipv4')).toBe(true);
    expect(allowed.check('127.0.0.2', 'ipv4')).toBe(false);
  });

  it.each([
    ['10.0.0.0/33', /10\.0\.0\.0\/33.*IPv4 allows 0\.\.32/],
    ['::/129', /IPv6 allows 0\.\.128/],
    ['example.com/8', /"example\.com\/8" is not a CIDR/],
    ['10.0.0.0', /not a CIDR/],
    ['10.0.0.0/', /not a CIDR/],
    ['10.0.0.0/8/8', /not a CIDR/],
    ['10.0.0/8', /not a CIDR/],
    ['fe80::%eth0/64', /not a CIDR/],
  ])('refuses %s with a message naming the entry', (cidr, message) => {
    expect(() => parseAllowedNetworks([cidr])).toThrow(/ALLOWED_TARGET_NETWORKS/);
    expect(() => parseAllowedNetworks([cidr])).toThrow(message);
  });

  it('lets an allowed network override the forbidden range it lies in', () => {
    const allowed = parseAllowedNetworks(['10.0.0.0/8', 'fd00::/8']);
    expect(refusalReason('10.1.2.3', allowed)).toBeNull();
    expect(refusalReason('fd00::1', allowed)).toBeNull();
    expect(refusalReason('192.168.1.1', allowed)).toBe('private');
    expect(refusalReason('fc00::1', allowed)).toBe('unique_local');
  });

  it('refuses everything forbidden when no networks are allowed', () => {
    expect(refusalReason('10.1.2.3', null)).toBe('private');
    expect(refusalReason('10.1.2.3', parseAllowedNetworks([]))).toBe('private');
    expect(refusalReason('8.8.8.8', null)).toBeNull();
  });

  it('allows an IPv4-mapped or NAT64 address through the IPv4 network it delivers to', () => {
    const allowed = parseAllowedNetworks(['127.0.0.0/8', '10.0.0.0/8']);
    expect(refusalReason('::ffff:127.0.0.1', allowed)).toBeNull();
    expect(refusalReason('::ffff:7f00:1', allowed)).toBeNull();
    expect(refusalReason('64:ff9b::a00:1', allowed)).toBeNull();
    expect(refusalReason('::1', allowed)).toBe('loopback');
  });

  it('allows cloud metadata only when an allowed network covers it', () => {
    expect(refusalReason('169.254.169.254', parseAllowedNetworks(['10.0.0.0/8']))).toBe('cloud_metadata');
    expect(refusalReason('169.254.169.254', parseAllowedNetworks(['169.254.169.254/32']))).toBeNull();
  });

  it('never allows what is not an IP address', () => {
    expect(refusalReason('localhost', parseAllowedNetworks(['0.0.0.0/0', '::/0']))).toBe('invalid_address');
  });
});

describe('checking a target URL', () => {
  it('resolves a public name and reports its addresses', async () => {
    const lookup = fakeLookup({
      'hooks.example.com': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
    });
    const guard = createTargetGuard({ allowed: null, lookup });
    await expect(guard.checkUrl('https://hooks.example.com/in')).resolves.toEqual({
      addresses: ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
    });
    expect(lookup).toHaveBeenCalledWith('hooks.example.com');
  });

  it('refuses a name that resolves to 127.0.0.1, naming host, address and reason', async () => {
    const guard = createTargetGuard({ allowed: null, lookup: fakeLookup({ 'evil.example': ['127.0.0.1'] }) });
    const error = await guard.checkUrl('https://evil.example/hook').catch((err: unknown) => err);
    expect(error).toBeInstanceOf(TargetForbiddenError);
    expect(error).toMatchObject({ reason: 'loopback', host: 'evil.example', address: '127.0.0.1' });
    expect((error as Error).message).toMatch(/evil\.example resolves to 127\.0\.0\.1.*loopback/);
  });

  it('refuses a name when any one of its addresses is forbidden', async () => {
    const lookup = fakeLookup({ 'mixed.example': ['93.184.216.34', '10.0.0.5'] });
    const guard = createTargetGuard({ allowed: null, lookup });
    await expect(guard.checkUrl('https://mixed.example/')).rejects.toMatchObject({
      name: 'TargetForbiddenError',
      reason: 'private',
      address: '10.0.0.5',
    });
  });

  it('accepts a name resolving into an allowed network', async () => {
    const guard = createTargetGuard({
      allowed: parseAllowedNetworks(['127.0.0.0/8']),
      lookup: fakeLookup({ 'receiver.test': ['127.0.0.1'] }),
    });
    await expect(guard.checkUrl('http://receiver.test:8080/')).resolves.toEqual({ addresses: ['127.0.0.1'] });
  });

  it.each([
    ['http://127.0.0.1/', '127.0.0.1', 'loopback'],
    ['http://2130706433/', '127.0.0.1', 'loopback'],
    ['http://0x7f.0.0.1/', '127.0.0.1', 'loopback'],
    ['http://169.254.169.254/latest/meta-data/', '169.254.169.254', 'cloud_metadata'],
    ['http://[::1]:8080/', '::1', 'loopback'],
    ['http://[::ffff:127.0.0.1]/', '::ffff:7f00:1', 'loopback'],
    ['http://[fd00:ec2::254]/', 'fd00:ec2::254', 'cloud_metadata'],
  ])('checks the IP literal in %s without resolving it', async (url, address, reason) => {
    const lookup = fakeLookup({});
    const guard = createTargetGuard({ allowed: null, lookup });
    await expect(guard.checkUrl(url)).rejects.toMatchObject({
      name: 'TargetForbiddenError',
      address,
      reason,
    });
    expect(lookup).not.toHaveBeenCalled();
  });

  it('accepts a public IP literal without resolving it', async () => {
    const lookup = fakeLookup({});
    const guard = createTargetGuard({ allowed: null, lookup });
    await expect(guard.checkUrl('https://[2606:4700:4700::1111]/')).resolves.toEqual({
      addresses: ['2606:4700:4700::1111'],
    });
    expect(lookup).not.toHaveBeenCalled();
  });

  it.each(['localhost', 'app.localhost'])('resolves %s through the resolver like any name', async (host) => {
    const lookup = fakeLookup({ [host]: ['127.0.0.1', '::1'] });
    const guard = createTargetGuard({ allowed: null, lookup });
    await expect(guard.checkUrl(`http://${host}:3000/`)).rejects.toMatchObject({ reason: 'loopback', host });
    expect(lookup).toHaveBeenCalledWith(host);
  });

  it('refuses the system resolver answer for localhost', async () => {
    const guard = createTargetGuard({ allowed: null });
    await expect(guard.checkUrl('http://localhost:3000/')).rejects.toMatchObject({
      name: 'TargetForbiddenError',
      reason: 'loopback',
      host: 'localhost',
    });
  });

  it('reports a name that does not resolve as a resolution error, not as forbidden', async () => {
    const guard = createTargetGuard({ allowed: null, lookup: fakeLookup({}) });
    const error = await guard.checkUrl('https://nowhere.invalid/').catch((err: unknown) => err);
    expect(error).toBeInstanceOf(TargetResolutionError);
    expect(error).not.toBeInstanceOf(TargetForbiddenError);
    expect(error).toMatchObject({ host: 'nowhere.invalid', code: 'ENOTFOUND' });
    expect((error as Error).cause).toMatchObject({ code: 'ENOTFOUND' });
  });

  it('reports a resolver answer without addresses as a resolution error', async () => {
    const guard = createTargetGuard({ allowed: null, lookup: fakeLookup({ 'empty.example': [] }) });
    await expect(guard.checkUrl('https://empty.example/')).rejects.toBeInstanceOf(TargetResolutionError);
  });

  it('refuses an invalid target URL before resolving anything', async () => {
    const lookup = fakeLookup({});
    const guard = createTargetGuard({ allowed: null, lookup });
    await expect(guard.checkUrl('ftp://example.com/')).rejects.toBeInstanceOf(TargetUrlError);
    expect(lookup).not.toHaveBeenCalled();
  });
});

describe('the connection-time lookup hook', () => {
  const resolve = fakeDnsLookup({
    'public.example': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
    'internal.example': ['93.184.216.34', '192.168.0.10'],
  });

  it('answers with every address when asked for all', async () => {
    const result = await callLookup(guardedLookup(null, resolve), 'public.example', { all: true });
    expect(result.err).toBeNull();
    expect(result.address).toEqual([
      { address: '93.184.216.34', family: 4 },
      { address: '2606:2800:220:1:248:1893:25c8:1946', family: 6 },
    ]);
  });

  it('answers with the first address and its family otherwise', async () => {
    const result = await callLookup(guardedLookup(null, resolve), 'public.example', {});
    expect(result).toEqual({ err: null, address: '93.184.216.34', family: 4 });
  });

  it('calls back with a TargetForbiddenError when any address is forbidden', async () => {
    const result = await callLookup(guardedLookup(null, resolve), 'internal.example', { all: true });
    expect(result.err).toBeInstanceOf(TargetForbiddenError);
    expect(result.err).toMatchObject({
      reason: 'private',
      host: 'internal.example',
      address: '192.168.0.10',
    });
  });

  it('lets an allowed network through', async () => {
    const allowed = parseAllowedNetworks(['192.168.0.0/16']);
    const result = await callLookup(guardedLookup(allowed, resolve), 'internal.example', { all: false });
    expect(result).toEqual({ err: null, address: '93.184.216.34', family: 4 });
  });

  it('passes resolver errors on unchanged', async () => {
    const result = await callLookup(guardedLookup(null, resolve), 'nowhere.example', { all: true });
    expect(result.err).not.toBeInstanceOf(TargetForbiddenError);
    expect(result.err).toMatchObject({ code: 'ENOTFOUND' });
  });

  it('checks the addresses of the real system resolver', async () => {
    const result = await callLookup(guardedLookup(null, dnsLookup), 'localhost', { all: true });
    expect(result.err).toMatchObject({ name: 'TargetForbiddenError', reason: 'loopback', host: 'localhost' });
  });
});

describe('an undici Agent connecting through the lookup hook', () => {
  let server: Server;
  let port: number;
  const agents: Agent[] = [];

  /** The system resolver limited to IPv4, so `localhost` is 127.0.0.1 on every machine. */
  const ipv4Lookup: LookupFunction = (hostname, options, callback) =>
    dnsLookup(hostname, { ...options, family: 4 }, callback);

  function agentWith(lookup: LookupFunction): Agent {
    const agent = new Agent({ connect: { lookup } });
    agents.push(agent);
    return agent;
  }

  beforeAll(async () => {
    server = createServer((_req, res) => res.end('reached'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await Promise.all(agents.map((agent) => agent.close()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('refuses to connect to a loopback server when no networks are allowed', async () => {
    const dispatcher = agentWith(guardedLookup(null));
    const error = await request(`http://localhost:${port}/`, { dispatcher }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(TargetForbiddenError);
    expect(error).toMatchObject({ reason: 'loopback', host: 'localhost' });
  });

  it('connects to the loopback server when 127.0.0.0/8 is allowed', async () => {
    const dispatcher = agentWith(guardedLookup(parseAllowedNetworks(['127.0.0.0/8']), ipv4Lookup));
    const response = await request(`http://localhost:${port}/`, { dispatcher });
    expect(response.statusCode).toBe(200);
    expect(await response.body.text()).toBe('reached');
  });

  it('refuses a name that passed the registration check but resolves to loopback at connection time', async () => {
    // DNS rebinding: a public answer for the check, 127.0.0.1 once the client connects.
    const guard = createTargetGuard({
      allowed: null,
      lookup: fakeLookup({ 'rebind.example': ['93.184.216.34'] }),
    });
    await expect(guard.checkUrl(`http://rebind.example:${port}/`)).resolves.toEqual({
      addresses: ['93.184.216.34'],
    });

    const dispatcher = agentWith(guardedLookup(null, fakeDnsLookup({ 'rebind.example': ['127.0.0.1'] })));
    await expect(request(`http://rebind.example:${port}/`, { dispatcher })).rejects.toMatchObject({
      name: 'TargetForbiddenError',
      address: '127.0.0.1',
    });
  });
});
