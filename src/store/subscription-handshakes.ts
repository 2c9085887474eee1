/**
 * The CloudEvents handshake of a subscription, as the store keeps it: the current handshake's id and
 * its sealed code, on the subscription's row. A new URL of a subscription that requires validation
 * replaces both, so an answer to an older handshake finds nothing to confirm.
 */
import type { SubscriptionStatus } from '../domain/types';
import type { Db } from './database';
import type { Sealer } from './sealing';

/** A CloudEvents handshake to run: its id and the code of its callback URL. */
export interface Handshake {
  id: string;
  code: string;
}

/** The code of the subscription's current handshake, for its callback URL; null when none. */
export async function handshakeCode(
  db: Db,
  sealer: Sealer,
  id: string,
  handshakeId: string,
): Promise<string | null> {
  const row = await db
    .selectFrom('subscriptions')
    .select(['handshake_id', 'handshake_code'])
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  if (!row || row.handshake_id !== handshakeId || row.handshake_code === null) return null;
  return sealer.openJson<string>(row.handshake_code);
}

/** The handshake id and code of a live subscription (the callback route checks a code against it). */
export async function currentHandshake(
  db: Db,
  sealer: Sealer,
  id: string,
): Promise<{ tenant: string; status: SubscriptionStatus; handshake: Handshake } | null> {
  const row = await db
    .selectFrom('subscriptions')
    .select(['tenant', 'status', 'handshake_id', 'handshake_code'])
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  if (!row || row.handshake_id === null || row.handshake_code === null) return null;
  return {
    tenant: row.tenant,
    status: row.status as SubscriptionStatus,
    handshake: { id: row.handshake_id, code: sealer.openJson<string>(row.handshake_code) },
  };
}
