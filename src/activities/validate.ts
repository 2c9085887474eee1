import type { HttpClient } from '../delivery/http';
import { TransportError } from '../delivery/http';

export interface ValidationRequest {
  url: string;
  /** Host of PUBLIC_BASE_URL, sent as WebHook-Request-Origin. */
  origin: string;
  /** Sent as WebHook-Request-Callback: the endpoint may GET it instead of answering at once. */
  callbackUrl: string;
}

/** What the endpoint answered to the OPTIONS request. Never a refusal by itself: the callback may still come. */
export interface ValidationAnswer {
  /** The WebHook-Allowed-Origin answer header as sent; null when absent or there was no answer. */
  allowedOrigin: string | null;
  /** Null when there was no HTTP answer. */
  statusCode: number | null;
  /** Why there was no HTTP answer (`refused: …`, `timeout: …`, `forbidden: …`); null otherwise. */
  error: string | null;
}

/** The CloudEvents webhook validation request (abuse protection handshake), sent once per handshake. */
export function createValidationActivities(deps: { http: HttpClient }) {
  return {
    async sendValidationRequest(req: ValidationRequest): Promise<ValidationAnswer> {
      let res;
      try {
        res = await deps.http.options(req.url, {
          'webhook-request-origin': req.origin,
          'webhook-request-callback': req.callbackUrl,
        });
      } catch (err) {
        // Returned, not thrown: an endpoint we cannot reach may still confirm through the callback, and a
        // retry would only delay the wait for it. Anything else is a bug of ours and fails the attempt.
        if (!(err instanceof TransportError)) throw err;
        return { allowedOrigin: null, statusCode: null, error: err.message };
      }
      return {
        // undici lower-cases header names.
        allowedOrigin: res.headers['webhook-allowed-origin'] ?? null,
        statusCode: res.statusCode,
        error: null,
      };
    },
  };
}
