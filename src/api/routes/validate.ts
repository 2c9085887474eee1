import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { decodeOptionalSinglePayload } from '@temporalio/common/lib/internal-non-workflow';
import { Router, type Request, type Response } from 'express';
import { validationWorkflowId } from '../../workflows/ids';
import {
  confirmValidationUpdate,
  type ValidationInput,
  type ValidationResult,
} from '../../workflows/messages';
import { HttpError } from '../errors';

/**
 * `GET|POST /v1/validate/{id}?code=…`: the callback of the validation handshake. It needs no API key
 * (the endpoint's owner calls it); the code is the secret. A wrong code answers 403 and changes nothing.
 */
export function validateRouter(client: Client): Router {
  const router = Router();
  const confirm = async (req: Request, res: Response) => {
    const id = String(req.params.id ?? '');
    const code = typeof req.query.code === 'string' ? req.query.code : '';
    if (!/^sub_[0-9a-f]{32}$/.test(id)) throw HttpError.notFound('validation');
    if (!/^[A-Za-z0-9]{32}$/.test(code)) throw HttpError.forbidden('wrong validation code');
    const handle = client.workflow.getHandle(validationWorkflowId(id));
    try {
      await handle.executeUpdate(confirmValidationUpdate, { args: [{ code }] });
    } catch (err) {
      const type =
        err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure
          ? err.cause.type
          : null;
      if (type === 'WrongCode') throw HttpError.forbidden('wrong validation code');
      if (type === 'ValidationExpired') throw HttpError.notFound('validation');
      if (type !== null) throw err;
      // The handshake already ended. Granted: the right code confirms again (idempotent), checked
      // against the code the handshake was started with. Expired: the registration is gone.
      const description = await handle.describe().catch(() => null);
      if (description?.status.name !== 'COMPLETED') throw HttpError.notFound('validation');
      const result = (await handle.result()) as ValidationResult;
      if (result === 'expired') throw HttpError.notFound('validation');
      const history = await handle.fetchHistory();
      const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
      // Through the client's codecs: with payload encryption on, history holds ciphertext.
      const input = await decodeOptionalSinglePayload<ValidationInput>(
        client.options.loadedDataConverter,
        payload,
      );
      if (input?.code !== code) throw HttpError.forbidden('wrong validation code');
    }
    res.json({ status: 'active' });
  };
  router.get('/v1/validate/:id', confirm);
  router.post('/v1/validate/:id', confirm);
  return router;
}
