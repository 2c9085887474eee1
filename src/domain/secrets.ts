/**
 * Which signing secrets are in force. Pure (no crypto here): the workflow keeps the list, the delivery
 * activity signs with `activeSecrets` at send time.
 */
import type { SigningSecret } from './types';

/** During a rotation the old secret keeps signing beside the new one for this long. */
export const ROTATION_OVERLAP_MS = 24 * 3_600_000;

/** The current secret first, then every older one whose overlap has not ended at `now`. */
export function activeSecrets(secrets: SigningSecret[], now: Date): string[] {
  const current = secrets.filter((s) => s.expiresAt === null).map((s) => s.secret);
  const old = secrets
    .filter((s) => s.expiresAt !== null && Date.parse(s.expiresAt) > now.getTime())
    .map((s) => s.secret);
  return [...current, ...old];
}

/** `newSecret` becomes current; the previous current one signs on until now + 24 h; expired ones go. */
export function rotateSecrets(secrets: SigningSecret[], now: Date, newSecret: string): SigningSecret[] {
  const overlapEnds = new Date(now.getTime() + ROTATION_OVERLAP_MS).toISOString();
  const kept = secrets
    .map((s) => (s.expiresAt === null ? { secret: s.secret, expiresAt: overlapEnds } : s))
    .filter((s) => s.expiresAt !== null && Date.parse(s.expiresAt) > now.getTime());
  return [{ secret: newSecret, expiresAt: null }, ...kept];
}

/** Drops secrets whose overlap has ended. */
export function pruneSecrets(secrets: SigningSecret[], now: Date): SigningSecret[] {
  return secrets.filter((s) => s.expiresAt === null || Date.parse(s.expiresAt) > now.getTime());
}
