/**
 * Standard Webhooks signatures: `webhook-signature: v1,<base64 HMAC-SHA256>` over
 * `{webhook-id}.{webhook-timestamp}.{body}`. Uses node:crypto, so workflow code must not import this
 * module; the pure choice of secrets lives in `domain/secrets` and is re-exported here.
 *
 * Hazard: error messages never quote a secret, since they reach logs and delivery records.
 */
import { createHmac, randomBytes } from 'node:crypto';

export { activeSecrets, rotateSecrets, ROTATION_OVERLAP_MS } from '../domain/secrets';

export const SECRET_PREFIX = 'whsec_';
/** Bytes of key material a secret may carry (Standard Webhooks: 24..64). */
export const MIN_SECRET_BYTES = 24;
export const MAX_SECRET_BYTES = 64;
/** Unix seconds above this are almost surely milliseconds (it is the year 2286). */
const MAX_TIMESTAMP_SECONDS = 9_999_999_999;

/** Standard base64 with padding, as produced by `Buffer#toString('base64')`. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A new secret: `whsec_` + base64 of `bytes` random bytes (24..64). */
export function generateSecret(bytes = 32): string {
  if (!Number.isInteger(bytes) || bytes < MIN_SECRET_BYTES || bytes > MAX_SECRET_BYTES) {
    throw new RangeError(
      `a signing secret holds ${MIN_SECRET_BYTES}..${MAX_SECRET_BYTES} bytes, not ${String(bytes)}`,
    );
  }
  return SECRET_PREFIX + randomBytes(bytes).toString('base64');
}

/** The HMAC key of a `whsec_…` secret. Throws on a missing prefix, bad base64 or a length outside 24..64. */
export function parseSecret(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) {
    throw new Error(`signing secret must start with "${SECRET_PREFIX}"`);
  }
  const encoded = secret.slice(SECRET_PREFIX.length);
  const key = Buffer.from(encoded, 'base64');
  // Buffer.from ignores stray characters and non-zero trailing bits; only the canonical form is accepted.
  if (encoded.length === 0 || !BASE64.test(encoded) || key.toString('base64') !== encoded) {
    throw new Error(`signing secret is not valid base64 after "${SECRET_PREFIX}"`);
  }
  if (key.length < MIN_SECRET_BYTES || key.length > MAX_SECRET_BYTES) {
    throw new Error(
      `signing secret holds ${key.length} bytes, expected ${MIN_SECRET_BYTES}..${MAX_SECRET_BYTES}`,
    );
  }
  return key;
}

export interface SignInput {
  /** The `webhook-id` header (`msg_…`). */
  msgId: string;
  /** The `webhook-timestamp` header: unix seconds, not ms. */
  timestamp: number;
  /** The exact request body; any re-serialisation breaks the signature. */
  body: string;
  /** `whsec_…` secrets in force, current first (see `activeSecrets`). */
  secrets: string[];
}

/** The `webhook-signature` header: one `v1,<base64>` per secret, space-separated, in the given order. */
export function sign({ msgId, timestamp, body, secrets }: SignInput): string {
  if (secrets.length === 0) throw new Error('cannot sign without a signing secret');
  if (!Number.isSafeInteger(timestamp) || timestamp < 0 || timestamp > MAX_TIMESTAMP_SECONDS) {
    throw new RangeError(`timestamp must be whole unix seconds, got ${timestamp}`);
  }
  const signed = `${msgId}.${timestamp}.${body}`;
  return secrets
    .map(
      (secret) => `v1,${createHmac('sha256', parseSecret(secret)).update(signed, 'utf8').digest('base64')}`,
    )
    .join(' ');
}
