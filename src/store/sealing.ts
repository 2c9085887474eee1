/**
 * Sealed columns: secrets, static header values, handshake codes and event data are stored as JSON
 * text, or, with PAYLOAD_ENCRYPTION_KEY set, as `sealed:<key id>:<base64 of AES-256-GCM>` (the same
 * keys and cipher as the Temporal payload codec). Reading accepts both, so turning encryption on or
 * rotating keys needs no migration; JSON text never starts with `s`, so the forms cannot be confused.
 */
import type { KeyObject } from 'node:crypto';
import { openSealed, PayloadDecryptionError, seal, type EncryptionKeys } from '../temporal/codec';

const PREFIX = 'sealed:';

export class Sealer {
  private readonly byId: Map<string, KeyObject>;

  constructor(private readonly keys: EncryptionKeys | null) {
    const all = keys ? [...(keys.current ? [keys.current] : []), ...keys.decryptOnly] : [];
    this.byId = new Map(all.map((k) => [k.id, k.key]));
  }

  /** The stored form of `json` (JSON text). */
  seal(json: string): string {
    const key = this.keys?.current;
    if (!key) return json;
    return `${PREFIX}${key.id}:${seal(key, Buffer.from(json, 'utf8')).toString('base64')}`;
  }

  /** JSON text of a stored value; throws PayloadDecryptionError for an unknown key or tampering. */
  open(stored: string): string {
    if (!stored.startsWith(PREFIX)) return stored;
    const colon = stored.indexOf(':', PREFIX.length);
    const id = stored.slice(PREFIX.length, colon);
    const key = colon > 0 ? this.byId.get(id) : undefined;
    if (!key) {
      throw new PayloadDecryptionError(
        `stored value sealed with key id "${id.slice(0, 64)}", which is not configured (add it to PAYLOAD_DECRYPTION_KEYS)`,
      );
    }
    return openSealed(key, id, Buffer.from(stored.slice(colon + 1), 'base64'), 'stored value').toString(
      'utf8',
    );
  }

  sealJson(value: unknown): string {
    return this.seal(JSON.stringify(value));
  }

  openJson<T>(stored: string): T {
    return JSON.parse(this.open(stored)) as T;
  }
}
