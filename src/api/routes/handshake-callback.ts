import { timingSafeEqual } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { Router, type Request, type Response } from 'express';
import type { Logger } from '../../logger';
import type { Store } from '../../store';
import type { Subscribers } from '../../temporal/subscribers';
import { handshakeWorkflowId } from '../../workflows/ids';
import { confirmHandshakeUpdate } from '../../workflows/messages';
import { HttpError } from '../errors';

export interface HandshakeCallbackDeps {
  store: Store;
  client: Client;
  subscribers: Subscribers;
  logger: Logger;
}

/** ms the callback waits for the handshake workflow to take a confirmation. */
const CONFIRM_WAIT_MS = 2_000;

function sameCode(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * What the handshake's callback does with a code for subscription `id`: the right code activates the
 * subscription in the store (only while it is pending on that handshake), then the handshake and the
 * subscriber are told. `wrong`: nothing changed. `gone`: no such handshake (never, or expired).
 */
export async function confirmHandshake(
  deps: HandshakeCallbackDeps,
  id: string,
  code: string,
): Promise<'active' | 'wrong' | 'gone'> {
  if (!/^sub_[0-9a-f]{32}$/.test(id)) return 'gone';
  const current = await deps.store.subscriptions.currentHandshake(id);
  if (!current) return 'gone';
  if (!sameCode(code, current.handshake.code)) return 'wrong';
  if (current.status === 'pending_validation') {
    await deps.store.subscriptions.transition(
      id,
      'pending_validation',
      'active',
      new Date(),
      current.handshake.id,
    );
    // The handshake ends early; the callback answers once it took the confirmation, or after
    // CONFIRM_WAIT_MS (no worker polls): the store decided already, a late handshake changes nothing.
    const update = deps.client.workflow
      .getHandle(handshakeWorkflowId(id, current.handshake.id))
      .executeUpdate(confirmHandshakeUpdate)
      .catch((err: unknown) => deps.logger.debug({ err, subscriptionId: id }, 'handshake already ended'));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([update, new Promise((r) => (timer = setTimeout(r, CONFIRM_WAIT_MS)))]);
    clearTimeout(timer);
    deps.subscribers.wake(id, { changed: true });
  }
  return 'active';
}

/**
 * `GET|POST /v1/validate/{id}?code=…`: the callback of the CloudEvents handshake. It needs no API key
 * (the endpoint's owner calls it); the code is the secret. A wrong code answers 403 and changes
 * nothing; an expired registration is gone (404).
 */
export function handshakeCallbackRouter(deps: HandshakeCallbackDeps): Router {
  const router = Router();
  const confirm = async (req: Request, res: Response) => {
    const code = typeof req.query.code === 'string' ? req.query.code : '';
    const outcome = await confirmHandshake(deps, String(req.params.id ?? ''), code);
    if (outcome === 'gone') throw HttpError.notFound('handshake');
    if (outcome === 'wrong') throw HttpError.forbidden('wrong handshake code');
    res.json({ status: 'active' });
  };
  router.get('/v1/validate/:id', confirm);
  router.post('/v1/validate/:id', confirm);
  return router;
}
