import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { ConfigError, loadConfig } from '../../src/config';
import {
  AesGcmPayloadCodec,
  ENCRYPTED_ENCODING,
  KEY_ID_METADATA_KEY,
  parseKeySpec,
  PayloadDecryptionError,
  type EncryptionKey,
} from '../../src/temporal/codec';

const SECRET_TEXT = 'card 4111-1111-1111-1111 of Ada Lovelace';

function keyFrom(spec: string): EncryptionKey {
  const key = parseKeySpec(spec);
  if (typeof key === 'string') throw new Error(key);
  return key;
}

const materialA = randomBytes(32).toString('base64');
const materialB = randomBytes(32).toString('base64');
const keyA = keyFrom(`a:${materialA}`);
const keyB = keyFrom(`b:${materialB}`);

const plain = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);
const text = (p: Payload, field: 'data' | 'encoding' | 'id') => {
  const bytes =
    field === 'data' ? p.data : p.metadata?.[field === 'encoding' ? 'encoding' : KEY_ID_METADATA_KEY];
  return Buffer.from(bytes ?? new Uint8Array()).toString('utf8');
};

describe('AES-256-GCM payload codec', () => {
  const codec = new AesGcmPayloadCodec({ current: keyA, decryptOnly: [] });

  it('encrypts each payload whole and decodes it back to the same payload', async () => {
    const original = plain({ data: { note: SECRET_TEXT } });
    const [encoded] = await codec.encode([original]);
    expect(text(encoded!, 'encoding')).toBe(ENCRYPTED_ENCODING);
    expect(text(encoded!, 'id')).toBe('a');
    // Neither the value nor its inner encoding (json/plain) is visible.
    expect(Buffer.from(encoded!.data!).includes(Buffer.from(SECRET_TEXT))).toBe(false);
    expect(Buffer.from(encoded!.data!).includes(Buffer.from('json/plain'))).toBe(false);
    const [decoded] = await codec.decode([encoded!]);
    expect(defaultPayloadConverter.fromPayload(decoded!)).toEqual({ data: { note: SECRET_TEXT } });
    expect(text(decoded!, 'encoding')).toBe('json/plain');
  });

  it('uses a fresh IV every time: the same payload encrypts differently twice', async () => {
    const [one, two] = await codec.encode([plain('same'), plain('same')]);
    expect(Buffer.from(one!.data!).equals(Buffer.from(two!.data!))).toBe(false);
    expect(Buffer.from(one!.data!).subarray(0, 12).equals(Buffer.from(two!.data!).subarray(0, 12))).toBe(
      false,
    );
  });

  it('passes plain payloads (written before encryption was on) through decode unchanged', async () => {
    const old = plain({ before: 'encryption' });
    const [decoded] = await codec.decode([old]);
    expect(decoded).toBe(old);
  });

  it('after a rotation, the new key encrypts and the old key still decrypts what it wrote', async () => {
    const [writtenBefore] = await codec.encode([plain('before rotation')]);
    const rotated = new AesGcmPayloadCodec({ current: keyB, decryptOnly: [keyA] });
    const [writtenAfter] = await rotated.encode([plain('after rotation')]);
    expect(text(writtenAfter!, 'id')).toBe('b');
    const decoded = await rotated.decode([writtenBefore!, writtenAfter!]);
    expect(decoded.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual([
      'before rotation',
      'after rotation',
    ]);
  });

  it('refuses a payload whose key id is not configured, naming the id, instead of passing it through', async () => {
    const [fromB] = await new AesGcmPayloadCodec({ current: keyB, decryptOnly: [] }).encode([plain('x')]);
    const attempt = codec.decode([fromB!]);
    await expect(attempt).rejects.toThrow(PayloadDecryptionError);
    await expect(codec.decode([fromB!])).rejects.toThrow(/key id "b", which is not configured/);
  });

  it('detects a flipped bit anywhere in the ciphertext, IV or tag', async () => {
    const [encoded] = await codec.encode([plain({ amount: 100 })]);
    const length = encoded!.data!.length;
    for (const at of [0, 11, 12, Math.floor(length / 2), length - 1]) {
      const data = Buffer.from(encoded!.data!);
      data[at]! ^= 0x01;
      await expect(codec.decode([{ ...encoded!, data }])).rejects.toThrow(/failed authentication/);
    }
    await expect(codec.decode([{ ...encoded!, data: encoded!.data!.subarray(0, 20) }])).rejects.toThrow(
      /truncated/,
    );
  });

  it('binds the key id to the ciphertext: relabelling with another id of the same key fails', async () => {
    const alias = keyFrom(`alias:${materialA}`);
    const both = new AesGcmPayloadCodec({ current: keyA, decryptOnly: [alias] });
    const [encoded] = await both.encode([plain('x')]);
    const relabelled = {
      ...encoded!,
      metadata: { ...encoded!.metadata, [KEY_ID_METADATA_KEY]: Buffer.from('alias') },
    };
    await expect(both.decode([relabelled])).rejects.toThrow(/failed authentication/);
  });

  it('in decrypt-only mode writes plain payloads but still reads encrypted ones', async () => {
    const [encrypted] = await codec.encode([plain('old')]);
    const decryptOnly = new AesGcmPayloadCodec({ current: null, decryptOnly: [keyA] });
    const fresh = plain('new');
    expect(await decryptOnly.encode([fresh])).toEqual([fresh]);
    const [decoded] = await decryptOnly.decode([encrypted!]);
    expect(defaultPayloadConverter.fromPayload(decoded!)).toBe('old');
  });
});

describe('encryption settings', () => {
  it('parses a key with an id and older keys for decryption only', () => {
    const config = loadConfig({
      PAYLOAD_ENCRYPTION_KEY: `k2:${materialB}`,
      PAYLOAD_DECRYPTION_KEYS: `k1:${materialA}, ${randomBytes(32).toString('base64url')}`,
    });
    expect(config.encryption!.current!.id).toBe('k2');
    expect(config.encryption!.decryptOnly.map((k) => k.id)).toEqual([
      'k1',
      expect.stringMatching(/^k[0-9a-f]{16}$/),
    ]);
  });

  it('derives the same id from the same bare key in every process', () => {
    const one = loadConfig({ PAYLOAD_ENCRYPTION_KEY: materialA }).encryption!.current!;
    const two = loadConfig({ PAYLOAD_ENCRYPTION_KEY: materialA }).encryption!.current!;
    expect(one.id).toMatch(/^k[0-9a-f]{16}$/);
    expect(one.id).toBe(two.id);
    expect(loadConfig({ PAYLOAD_ENCRYPTION_KEY: materialB }).encryption!.current!.id).not.toBe(one.id);
  });

  it('is off by default, and the codec route has no keys and the dev UI as its CORS origin', () => {
    const config = loadConfig({});
    expect(config.encryption).toBeNull();
    expect(config.codec.authKeyDigests).toEqual([]);
    expect(config.codec.corsOrigins).toEqual(['http://localhost:8233', 'http://127.0.0.1:8233']);
    expect(loadConfig({ TEMPORAL_UI_PORT: '9000' }).codec.corsOrigins[0]).toBe('http://localhost:9000');
  });

  it('never shows key material when the config is printed or serialised', () => {
    const operatorKey = 'operator-key-0123456789';
    const config = loadConfig({
      PAYLOAD_ENCRYPTION_KEY: `a:${materialA}`,
      PAYLOAD_DECRYPTION_KEYS: `b:${materialB}`,
      CODEC_AUTH_KEYS: operatorKey,
    });
    const hexA = Buffer.from(materialA, 'base64').toString('hex');
    for (const shown of [JSON.stringify(config), inspect(config, { depth: 10 })]) {
      for (const secret of [materialA, materialB, hexA, operatorKey]) expect(shown).not.toContain(secret);
    }
  });

  it.each([
    ['PAYLOAD_ENCRYPTION_KEY', 'not base64 at all!', /base64 of exactly 32/],
    ['PAYLOAD_ENCRYPTION_KEY', randomBytes(16).toString('base64'), /base64 of exactly 32/],
    ['PAYLOAD_ENCRYPTION_KEY', `bad id:${randomBytes(32).toString('base64')}`, /key id/],
    ['PAYLOAD_ENCRYPTION_KEY', `${materialA},${materialB}`, /exactly one key/],
    ['PAYLOAD_DECRYPTION_KEYS', `x:${randomBytes(31).toString('base64')}`, /entry 1/],
    ['CODEC_AUTH_KEYS', 'short', />= 16 characters/],
    ['CODEC_CORS_ORIGINS', 'http://localhost:8233/ui', /not an origin/],
    ['CODEC_CORS_ORIGINS', 'localhost:8233', /not an origin/],
  ])('refuses %s=%s with a message naming the setting and not the key', (name, value, message) => {
    let error: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(name);
    expect((error as Error).message).toMatch(message);
    if (name.startsWith('PAYLOAD')) {
      for (const part of value.split(/[,:]/))
        if (part.length > 12) expect((error as Error).message).not.toContain(part);
    }
  });

  it('refuses the same key id twice across current and older keys', () => {
    expect(() =>
      loadConfig({ PAYLOAD_ENCRYPTION_KEY: `a:${materialA}`, PAYLOAD_DECRYPTION_KEYS: `a:${materialB}` }),
    ).toThrow(/key id "a" is given twice/);
  });

  it('refuses an operator codec key that is also a tenant API key', () => {
    const key = 'shared-key-0123456789';
    expect(() => loadConfig({ API_KEYS: `acme:${key}`, CODEC_AUTH_KEYS: key })).toThrow(
      /CODEC_AUTH_KEYS: a codec key may not also be a tenant API key/,
    );
  });
});
