import { isIP, type LookupFunction } from 'node:net';
import type { HostLookup } from '../../../src/net/ssrf';

/**
 * A resolver a test controls: names map to addresses it can change at any time, separately for the
 * pre-request check (`host`, as the delivery client's target guard resolves) and for the socket's own
 * lookup (`socket`, what the connection really uses). Names it does not know resolve to `fallback`,
 * or fail with ENOTFOUND when there is none.
 */
export class TestResolver {
  readonly hostTable = new Map<string, string>();
  readonly socketTable = new Map<string, string>();
  /** Lookups answered, by table. */
  readonly calls = { host: 0, socket: 0 };

  constructor(private readonly fallback: string | null = null) {}

  /** Both lookups answer `address` for `name`. */
  set(name: string, address: string): void {
    this.hostTable.set(name, address);
    this.socketTable.set(name, address);
  }

  private answer(table: Map<string, string>, name: string): string | null {
    return table.get(name) ?? this.fallback;
  }

  readonly host: HostLookup = (hostname) => {
    this.calls.host++;
    const address = this.answer(this.hostTable, hostname);
    if (!address)
      return Promise.reject(Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }));
    return Promise.resolve([{ address, family: isIP(address) }]);
  };

  readonly socket: LookupFunction = (hostname, options, callback) => {
    this.calls.socket++;
    const address = this.answer(this.socketTable, hostname);
    process.nextTick(() => {
      if (!address) {
        callback(Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
        return;
      }
      const family = isIP(address);
      if (options.all) callback(null, [{ address, family }]);
      else callback(null, address, family);
    });
  };
}
