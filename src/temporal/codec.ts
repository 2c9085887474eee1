import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createSecretKey,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import {
  METADATA_ENCODING_KEY,
  type DataConverter,
  type Payload,
  type PayloadCodec,
} from '@temporalio/common';
import { temporal } from '@temporalio/proto';

/**
 * Payload encryption at rest: AES-256-GCM over each whole Temporal payload (its metadata included, so
 * even the inner encoding is hidden). Runs in the client and the worker, outside the workflow sandbox;
 * the Temporal server only ever stores ciphertext.
 *
 * Wire format of an encrypted payload:
 * - metadata `encoding` = `binary/encrypted`, `encryption-key-id` = the key's id (UTF-8);
 * - data = IV (12 random bytes) ‖ ciphertext ‖ GCM tag (16 bytes).
 * The key id is also the GCM additional authenticated data, so relabelling a payload with another id
 * fails authentication instead of decrypting under the wrong key.
 */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA_KEY = 'encryption-key-id';

const IV_BYTES = 12;
const TAG_BYTES = 16;
/** AES-256: exactly 32 key bytes. */
export const KEY_BYTES = 32;

/** One AES-256 key. `key` is a KeyObject: it prints and serialises without its bytes, so logs never hold it. */
export interface EncryptionKey {
  id: string;
  key: KeyObject;
}

/**
 * The keys in force. `current` encrypts every new payload and decrypts too; `decryptOnly` are older
 * keys kept so histories written before a rotation still read. `current: null` is decrypt-only mode
 * (turning encryption off while encrypted histories are still running).
 */
export interface EncryptionKeys {
  current: EncryptionKey | null;
  decryptOnly: EncryptionKey[];
}

/** A payload could not be decrypted (unknown key id, tampered or truncated data). Never passed through. */
export class PayloadDecryptionError extends Error {
  override name = 'PayloadDecryptionError';
}

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
/** Standard or URL-safe base64 of 32 bytes: 43 characters and an optional `=`. */
const KEY_BASE64 = /^[A-Za-z0-9+/_-]{43}=?$/;

/** Key id of a key given without one: derived from the key, so every process computes the same id. */
function derivedKeyId(bytes: Buffer): string {
  return `k${createHash('sha256').update('hookline-payload-key-id\0').update(bytes).digest('hex').slice(0, 16)}`;
}

/**
 * Parses `<keyId>:<base64 of 32 bytes>` or a bare `<base64 of 32 bytes>` (id derived from the key).
 * Returns an error message instead of throwing; messages never contain key material.
 */
export function parseKeySpec(raw: string): EncryptionKey | string {
  const spec = raw.trim();
  const colon = spec.indexOf(':');
  const id = colon === -1 ? null : spec.slice(0, colon);
  const material = colon === -1 ? spec : spec.slice(colon + 1);
  if (id !== null && !KEY_ID.test(id)) {
    return 'the key id (before ":") must be 1-64 characters of A-Z a-z 0-9 . _ -';
  }
  const bytes = KEY_BASE64.test(material) ? Buffer.from(material, 'base64') : null;
  if (!bytes || bytes.length !== KEY_BYTES) {
    return 'a key must be [<id>:]<base64 of exactly 32 random bytes> (e.g. `openssl rand -base64 32`)';
  }
  const key = { id: id ?? derivedKeyId(bytes), key: createSecretKey(bytes) };
  bytes.fill(0);
  return key;
}

/** Checks that ids are unique across the current and older keys; an error message or null. */
export function duplicateKeyIdError(keys: EncryptionKeys): string | null {
  const seen = new Set<string>();
  for (const k of [...(keys.current ? [keys.current] : []), ...keys.decryptOnly]) {
    if (seen.has(k.id)) return `key id "${k.id}" is given twice; every key needs its own id`;
    seen.add(k.id);
  }
  return null;
}

const utf8 = (s: string) => Buffer.from(s, 'utf8');

/** The AES-256-GCM codec. Encodes with the current key; decodes with whichever key the payload names. */
export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly byId: Map<string, KeyObject>;

  constructor(private readonly keys: EncryptionKeys) {
    const error = duplicateKeyIdError(keys);
    if (error) throw new Error(error);
    this.byId = new Map(
      [...(keys.current ? [keys.current] : []), ...keys.decryptOnly].map((k) => [k.id, k.key]),
    );
  }

  /** Decrypt-only mode (no current key) leaves new payloads as they are. */
  encode(payloads: Payload[]): Promise<Payload[]> {
    const current = this.keys.current;
    if (!current) return Promise.resolve(payloads);
    return Promise.resolve(payloads.map((p) => encrypt(current, p)));
  }

  /**
   * Payloads without the encrypted encoding pass through (plain JSON written before encryption was
   * turned on). An encrypted payload whose key is unknown, or that fails authentication, throws.
   */
  decode(payloads: Payload[]): Promise<Payload[]> {
    // A throw inside the executor becomes the rejection.
    return new Promise((resolve) => resolve(payloads.map((p) => this.decrypt(p))));
  }

  private decrypt(payload: Payload): Payload {
    const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
    if (!encoding || Buffer.from(encoding).toString('utf8') !== ENCRYPTED_ENCODING) return payload;
    const idBytes = payload.metadata?.[KEY_ID_METADATA_KEY];
    if (!idBytes) throw new PayloadDecryptionError(`encrypted payload without "${KEY_ID_METADATA_KEY}"`);
    const id = Buffer.from(idBytes).toString('utf8');
    const key = this.byId.get(id);
    if (!key) {
      throw new PayloadDecryptionError(
        `payload encrypted with key id "${id.slice(0, 64)}", which is not configured ` +
          '(add it to PAYLOAD_DECRYPTION_KEYS)',
      );
    }
    const plain = openSealed(key, id, Buffer.from(payload.data ?? new Uint8Array()), 'encrypted payload');
    const inner = temporal.api.common.v1.Payload.decode(plain);
    return { metadata: inner.metadata ?? {}, data: inner.data ?? new Uint8Array() };
  }
}

function encrypt(key: EncryptionKey, payload: Payload): Payload {
  const plain = temporal.api.common.v1.Payload.encode({
    metadata: payload.metadata,
    data: payload.data,
  }).finish();
  return {
    metadata: { [METADATA_ENCODING_KEY]: utf8(ENCRYPTED_ENCODING), [KEY_ID_METADATA_KEY]: utf8(key.id) },
    data: seal(key, plain),
  };
}

/**
 * AES-256-GCM of `plain` under `key`: IV (12 random bytes) ‖ ciphertext ‖ tag (16 bytes), the key id as
 * additional authenticated data. A random 96-bit IV per message: GCM's limit of ~2^32 messages per key
 * under random IVs is far off for one deployment, and rotation resets it. Also used by the store for
 * its sealed columns (src/store/sealing.ts).
 */
export function seal(key: EncryptionKey, plain: Uint8Array): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key.key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(utf8(key.id));
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

/** The plain bytes of `seal`'s output under key `id`; throws PayloadDecryptionError naming `what`. */
export function openSealed(key: KeyObject, id: string, data: Buffer, what: string): Buffer {
  if (data.length < IV_BYTES + TAG_BYTES) {
    throw new PayloadDecryptionError(`${what} (key id "${id}") is truncated`);
  }
  const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES), {
    authTagLength: TAG_BYTES,
  });
  decipher.setAAD(utf8(id));
  decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
  try {
    return Buffer.concat([
      decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
      decipher.final(),
    ]);
  } catch (err) {
    throw new PayloadDecryptionError(
      `${what} (key id "${id}") failed authentication: tampered, or a different key under this id`,
      { cause: err },
    );
  }
}

/** The codec for these keys, or null when encryption is off (plain JSON payloads). */
export function createPayloadCodec(keys: EncryptionKeys | null): AesGcmPayloadCodec | null {
  return keys ? new AesGcmPayloadCodec(keys) : null;
}

/**
 * The data converter every Client and Worker of the service uses: the default payload converter, plus
 * the codec when encryption is configured. Both sides must agree, or a worker reads ciphertext it cannot
 * decode (its workflow tasks then fail and retry until it is configured too).
 */
export function dataConverterFor(codec: PayloadCodec | null): DataConverter {
  return codec ? { payloadCodecs: [codec] } : {};
}
