/**
 * SSRF protection for delivery targets: a subscriber's URL must not reach into the network the
 * service runs in (loopback, private ranges, cloud metadata) unless the operator allowed it with
 * `ALLOWED_TARGET_NETWORKS`.
 *
 * Two checks, both needed:
 * - `createTargetGuard().checkUrl` at registration (a clear 400) and before a delivery;
 * - `guardedLookup` as the HTTP client's `connect.lookup`, which checks the addresses the socket is
 *   about to use. Without it a name can resolve to a public address for the check and to 127.0.0.1
 *   for the connection (DNS rebinding).
 *
 * Hazard: Node does not call `lookup` for an IP literal host, so `guardedLookup` never sees
 * `http://127.0.0.1/`; literals are covered by `checkUrl` only (they cannot rebind).
 */
import { lookup as dnsLookup, promises as dnsPromises, type LookupAddress } from 'node:dns';
import { BlockList, isIP, isIPv4, isIPv6, type LookupFunction } from 'node:net';
import { normalizeTargetUrl } from './url';

/** Why an address is refused. Stable codes; shown to API users. */
export type ForbiddenReason =
  | 'invalid_address'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link_local'
  | 'shared_address'
  | 'unique_local'
  | 'multicast'
  | 'broadcast'
  | 'reserved'
  | 'benchmarking'
  | 'documentation'
  | 'cloud_metadata';

const REASON_TEXT: Record<ForbiddenReason, string> = {
  invalid_address: 'not a valid IP address',
  unspecified: 'an unspecified ("this network") address',
  loopback: 'a loopback address',
  private: 'a private-network address',
  link_local: 'a link-local address',
  shared_address: 'a carrier-grade NAT (shared) address',
  unique_local: 'an IPv6 unique-local address',
  multicast: 'a multicast address',
  broadcast: 'the broadcast address',
  reserved: 'a reserved or special-purpose address',
  benchmarking: 'a benchmarking address',
  documentation: 'a documentation address',
  cloud_metadata: 'a cloud metadata service address',
};

/** A target that resolves into a refused network. `address` is the offending one. */
export class TargetForbiddenError extends Error {
  override readonly name = 'TargetForbiddenError';

  constructor(
    readonly reason: ForbiddenReason,
    readonly host: string,
    readonly address: string,
  ) {
    const where = host === address ? address : `${host} resolves to ${address}, which`;
    super(
      `${where} is ${REASON_TEXT[reason]}; delivery targets there need ALLOWED_TARGET_NETWORKS to include it`,
    );
  }
}

/** The target's host name did not resolve. `code` is the resolver's (`ENOTFOUND`, `EAI_AGAIN`, …). */
export class TargetResolutionError extends Error {
  override readonly name = 'TargetResolutionError';
  readonly code: string | undefined;

  constructor(
    readonly host: string,
    cause: unknown,
  ) {
    const code = errorCode(cause);
    super(`could not resolve ${host}${code ? ` (${code})` : ''}`, { cause });
    this.code = code;
  }
}

// ---------------------------------------------------------------------------------------------
// Address classification

interface Range<T> {
  base: T;
  bits: number;
  reason: ForbiddenReason;
}

/** IPv4 as an unsigned 32-bit integer; null unless a strict dotted quad. */
function parseIPv4(text: string): number | null {
  if (!isIPv4(text)) return null;
  return text.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

/** IPv6 as a 128-bit bigint; a zone id (`%eth0`) is ignored. Null unless valid IPv6 text. */
function parseIPv6(text: string): bigint | null {
  const bare = stripZone(text);
  if (!isIPv6(bare)) return null;
  const groupsOf = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((group) => {
          if (!group.includes('.')) return [parseInt(group, 16)];
          const v4 = parseIPv4(group) ?? 0;
          return [Math.floor(v4 / 0x10000), v4 % 0x10000];
        });
  const [head = '', tail] = bare.split('::');
  const left = groupsOf(head);
  const right = tail === undefined ? [] : groupsOf(tail);
  const zeros = tail === undefined ? 0 : 8 - left.length - right.length;
  const groups = [...left, ...new Array<number>(zeros).fill(0), ...right];
  if (groups.length !== 8) return null;
  return groups.reduce((acc, group) => (acc << 16n) | BigInt(group), 0n);
}

function stripZone(text: string): string {
  const percent = text.indexOf('%');
  return percent === -1 ? text : text.slice(0, percent);
}

function v4Ranges(table: [string, ForbiddenReason][]): Range<number>[] {
  return table.map(([cidr, reason]) => {
    const [base = '', bits = ''] = cidr.split('/');
    return { base: parseIPv4(base)!, bits: Number(bits), reason };
  });
}

function v6Ranges(table: [string, ForbiddenReason][]): Range<bigint>[] {
  return table.map(([cidr, reason]) => {
    const [base = '', bits = ''] = cidr.split('/');
    return { base: parseIPv6(base)!, bits: Number(bits), reason };
  });
}

/** First match wins: specific entries come before the ranges that contain them. */
const IPV4_FORBIDDEN = v4Ranges([
  ['169.254.169.254/32', 'cloud_metadata'], // AWS, GCP, Azure, OpenStack, …
  ['100.100.100.200/32', 'cloud_metadata'], // Alibaba Cloud
  ['255.255.255.255/32', 'broadcast'],
  ['0.0.0.0/8', 'unspecified'],
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'shared_address'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link_local'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'reserved'], // IETF protocol assignments
  ['192.0.2.0/24', 'documentation'],
  ['192.88.99.0/24', 'reserved'], // deprecated 6to4 relay anycast
  ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'benchmarking'],
  ['198.51.100.0/24', 'documentation'],
  ['203.0.113.0/24', 'documentation'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved'],
]);

const IPV6_FORBIDDEN = v6Ranges([
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['fd00:ec2::254/128', 'cloud_metadata'], // AWS IMDS over IPv6
  ['64:ff9b:1::/48', 'reserved'], // local-use NAT64 (RFC 8215): IPv4 position varies, so no embedding check
  ['100::/64', 'reserved'], // discard-only
  ['2001:2::/48', 'benchmarking'],
  ['2001::/23', 'reserved'], // IETF protocol assignments, Teredo included
  ['2001:db8::/32', 'documentation'],
  ['3fff::/20', 'documentation'],
  ['fc00::/7', 'unique_local'],
  ['fe80::/10', 'link_local'],
  ['ff00::/8', 'multicast'],
]);

const IPV4_MAPPED = v6Ranges([['::ffff:0:0/96', 'reserved']])[0]!;
const NAT64_WELL_KNOWN = v6Ranges([['64:ff9b::/96', 'reserved']])[0]!;
const SIX_TO_FOUR = v6Ranges([['2002::/16', 'reserved']])[0]!;
const GLOBAL_UNICAST = v6Ranges([['2000::/3', 'reserved']])[0]!;

function inV4(address: number, range: Range<number>): boolean {
  // `>>> 32` would be `>>> 0` in JS, so /0 is special-cased.
  return range.bits === 0 || address >>> (32 - range.bits) === range.base >>> (32 - range.bits);
}

function inV6(address: bigint, range: Range<bigint>): boolean {
  const shift = BigInt(128 - range.bits);
  return address >> shift === range.base >> shift;
}

function classifyV4(address: number): ForbiddenReason | null {
  return IPV4_FORBIDDEN.find((range) => inV4(address, range))?.reason ?? null;
}

function formatV4(address: number): string {
  return [24, 16, 8, 0].map((shift) => (address >>> shift) & 0xff).join('.');
}

/**
 * The IPv4 address an IPv6 address delivers to: IPv4-mapped (`::ffff:a.b.c.d`, the socket really
 * uses IPv4) and well-known NAT64 (`64:ff9b::a.b.c.d`, the gateway translates to it).
 */
function deliveredIPv4(address: bigint): number | null {
  if (inV6(address, IPV4_MAPPED) || inV6(address, NAT64_WELL_KNOWN)) return Number(address & 0xffffffffn);
  return null;
}

/**
 * Why `ip` may not be a delivery target, or null when it is an ordinary public address.
 * Anything that is not a valid IP address is refused (`invalid_address`): fail closed.
 */
export function forbiddenReason(ip: string): ForbiddenReason | null {
  const text = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;

  const v4 = parseIPv4(text);
  if (v4 !== null) return classifyV4(v4);

  const v6 = parseIPv6(text);
  if (v6 === null) return 'invalid_address';

  const embedded = deliveredIPv4(v6);
  if (embedded !== null) return classifyV4(embedded);
  // 6to4 (2002:AABB:CCDD::/48) reaches the IPv4 site AABB:CCDD through a relay: refuse internal ones.
  if (inV6(v6, SIX_TO_FOUR)) {
    const site = classifyV4(Number((v6 >> 80n) & 0xffffffffn));
    if (site !== null) return site;
  }

  const listed = IPV6_FORBIDDEN.find((range) => inV6(v6, range))?.reason;
  if (listed) return listed;
  // Outside 2000::/3 nothing is ordinary unicast: IPv4-compatible, site-local, SIIT, unassigned.
  return inV6(v6, GLOBAL_UNICAST) ? null : 'reserved';
}

/** True for addresses a delivery target may not use (see {@link forbiddenReason}). */
export function isForbiddenAddress(ip: string): boolean {
  return forbiddenReason(ip) !== null;
}

// ---------------------------------------------------------------------------------------------
// Allowed networks

/**
 * Parses `ALLOWED_TARGET_NETWORKS` entries (`10.0.0.0/8`, `fd00::/8`, `127.0.0.1/32`). Blank
 * entries are skipped; anything else that is not a CIDR throws, naming the entry.
 */
export function parseAllowedNetworks(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of cidrs) {
    const cidr = entry.trim();
    if (cidr === '') continue;
    const match = /^([0-9A-Fa-f:.]+)\/(\d{1,3})$/.exec(cidr);
    const address = match?.[1] ?? '';
    const family = isIP(address);
    if (!match || family === 0) {
      throw new Error(`ALLOWED_TARGET_NETWORKS: "${entry}" is not a CIDR like 10.0.0.0/8 or fd00::/8`);
    }
    const prefix = Number(match[2]);
    const max = family === 4 ? 32 : 128;
    if (prefix > max) {
      throw new Error(
        `ALLOWED_TARGET_NETWORKS: "${entry}" has prefix /${prefix}; IPv${family} allows 0..${max}`,
      );
    }
    list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
  }
  return list;
}

/** Whether `ip` lies in an allowed network; an IPv4-mapped or NAT64 address also by its IPv4. */
function isAllowed(allowed: BlockList | null, ip: string): boolean {
  if (allowed === null) return false;
  const text = stripZone(ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip);
  const family = isIP(text);
  if (family === 0) return false;
  if (allowed.check(text, family === 4 ? 'ipv4' : 'ipv6')) return true;
  const v6 = family === 6 ? parseIPv6(text) : null;
  const embedded = v6 === null ? null : deliveredIPv4(v6);
  return embedded !== null && allowed.check(formatV4(embedded), 'ipv4');
}

/**
 * The reason `ip` is refused, or null when it is public or inside an allowed network.
 * Hazard: allowed networks override every reason, cloud metadata included (`0.0.0.0/0` opens all).
 */
export function refusalReason(ip: string, allowed: BlockList | null): ForbiddenReason | null {
  const reason = forbiddenReason(ip);
  if (reason === null || reason === 'invalid_address') return reason;
  return isAllowed(allowed, ip) ? null : reason;
}

// ---------------------------------------------------------------------------------------------
// Checks

/** Resolves a host name to every address it has (like `dns.promises.lookup(host, { all: true })`). */
export type HostLookup = (hostname: string) => Promise<readonly { address: string; family: number }[]>;

export interface TargetGuardOptions {
  /** Networks that may be targets although forbidden by default; null allows none. */
  allowed: BlockList | null;
  /** Defaults to the system resolver (`dns.lookup`, the one sockets use, /etc/hosts included). */
  lookup?: HostLookup;
}

export interface TargetGuard {
  /**
   * Resolves the URL's host and checks every address. An IP literal is checked as is; every name,
   * `localhost` and `*.localhost` included, goes through the resolver.
   * @throws TargetUrlError (from `normalizeTargetUrl`), TargetResolutionError, TargetForbiddenError
   */
  checkUrl(url: string): Promise<{ addresses: string[] }>;
}

const systemLookup: HostLookup = (hostname) => dnsPromises.lookup(hostname, { all: true });

export function createTargetGuard(options: TargetGuardOptions): TargetGuard {
  const { allowed, lookup = systemLookup } = options;
  return {
    async checkUrl(url) {
      const { hostname } = new URL(normalizeTargetUrl(url));
      const host = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;

      let addresses: string[];
      if (isIP(host) !== 0) {
        addresses = [host];
      } else {
        let records: readonly { address: string }[];
        try {
          records = await lookup(host);
        } catch (err) {
          throw new TargetResolutionError(host, err);
        }
        if (records.length === 0) throw new TargetResolutionError(host, undefined);
        addresses = records.map((r) => r.address);
      }

      const refusal = findRefusal(host, addresses, allowed);
      if (refusal) throw refusal;
      return { addresses };
    },
  };
}

/** Any single refused address refuses the host: the client may connect to any of them. */
function findRefusal(
  host: string,
  addresses: readonly string[],
  allowed: BlockList | null,
): TargetForbiddenError | null {
  for (const address of addresses) {
    const reason = refusalReason(address, allowed);
    if (reason !== null) return new TargetForbiddenError(reason, host, address);
  }
  return null;
}

/**
 * A `dns.lookup`-compatible function for `net.connect`/undici's `connect: { lookup }`: resolves
 * like `resolve` (default `dns.lookup`), then calls back with a TargetForbiddenError when any
 * address is refused. Honours `options.all` (array when true, first address otherwise) and passes
 * `family`/`hints` through. Resolver errors are passed on unchanged (`ENOTFOUND`, …).
 */
export function guardedLookup(
  allowed: BlockList | null,
  resolve: LookupFunction = dnsLookup,
): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (err, result, family) => {
      if (err) {
        callback(err, options.all ? [] : '');
        return;
      }
      const records: LookupAddress[] =
        typeof result === 'string' ? [{ address: result, family: family ?? isIP(result) }] : result;
      if (records.length === 0) {
        callback(new TargetResolutionError(hostname, undefined), options.all ? [] : '');
        return;
      }
      const refusal = findRefusal(
        hostname,
        records.map((r) => r.address),
        allowed,
      );
      if (refusal) {
        callback(refusal, options.all ? [] : '');
        return;
      }
      if (options.all) callback(null, records);
      else callback(null, records[0]!.address, records[0]!.family);
    });
  };
}

function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string')
    return err.code;
  return undefined;
}
