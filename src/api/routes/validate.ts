import { timingSafeEqual } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { Router, type Request, type Response } from 'express';
import type { Logger } from '../../logger';
import type { Store } from '../../store';
import type { Subscribers } from '../../temporal/subscribers';
import { handshakeWorkflowId } from '../../workflows/ids';
import { confirmHandshakeSignal } from '../../workflows/messages';
import { HttpError } from '../errors';

export interface ValidateRouteDeps {
  store: Store;
  client: Client;
  subscribers: Subscribers;
  logger: Logger;
}

function sameCode(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * `GET|POST /v1/validate/{id}?code=…`: the callback of the CloudEvents handshake. It needs no API key
 * (the endpoint's owner calls it); the code is the secret. The right code activates the subscription
 * in the store (only while it is pending on that handshake), then the handshake and the subscriber are
 * told; a wrong code answers 403 and changes nothing; an expired registration is gone (404).
 */
export function validateRouter(deps: ValidateRouteDeps): Router {
  const router = Router();
  const confirm = async (req: Request, res: Response) => {
    const id = String(req.params.id ?? '');
    const code = typeof req.query.code === 'string' ? req.query.code : '';
    if (!/^sub_[0-9a-f]{32}$/.test(id)) throw HttpError.notFound('validation');
    const current = await deps.store.subscriptions.currentHandshake(id);
    if (!current) throw HttpError.notFound('validation');
    if (!sameCode(code, current.handshake.code)) throw HttpError.forbidden('wrong validation code');
    if (current.status === 'pending_validation') {
      await deps.store.subscriptions.transition(
        id,
        'pending_validation',
        'active',
        new Date(),
        current.handshake.id,
      );
      // Best effort: the handshake ends early, the subscriber reads the store (the store owes it too).
      deps.client.workflow
        .getHandle(handshakeWorkflowId(id, current.handshake.id))
        .signal(confirmHandshakeSignal)
        .catch((err: unknown) => deps.logger.debug({ err, subscriptionId: id }, 'handshake already ended'));
      deps.subscribers.wake(id, { changed: true });
    }
    res.json({ status: 'active' });
  };
  router.get('/v1/validate/:id', confirm);
  router.post('/v1/validate/:id', confirm);
  return router;
}
