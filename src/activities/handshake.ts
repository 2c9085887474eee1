import type { HttpClient } from '../delivery/http';
import { TransportError } from '../delivery/http';
import type { Store } from '../store';
import type { HandshakeInput } from '../workflows/messages';

/** What the endpoint answered to the OPTIONS request. Never a refusal by itself: the callback may still come. */
export interface HandshakeAnswer {
  /** The WebHook-Allowed-Origin answer header as sent; null when absent or there was no answer. */
  allowedOrigin: string | null;
  /** Null when there was no HTTP answer. */
  statusCode: number | null;
  /** Why there was no HTTP answer (`refused: …`, `timeout: …`, `forbidden: …`); null otherwise. */
  error: string | null;
  /** The origin we sent (host of PUBLIC_BASE_URL), which the answer must allow. */
  origin: string;
}

export interface HandshakeDeps {
  store: Store;
  http: HttpClient;
  /** Host of PUBLIC_BASE_URL, sent as WebHook-Request-Origin. */
  origin: string;
  /** PUBLIC_BASE_URL: the callback URL is `<it>/v1/validate/<subscription id>?code=<code>`. */
  publicBaseUrl: string;
}

/**
 * The CloudEvents webhook validation request (abuse protection), sent once per handshake. The URL and
 * the callback's code come from the store: they never travel through Temporal.
 */
export function createHandshakeActivities(deps: HandshakeDeps) {
  return {
    async sendHandshakeRequest(input: HandshakeInput): Promise<HandshakeAnswer> {
      const none = (error: string) => ({ allowedOrigin: null, statusCode: null, error, origin: deps.origin });
      const view = await deps.store.subscriptions.forDelivery(input.subscriptionId, new Date());
      const code = await deps.store.subscriptions.handshakeCode(input.subscriptionId, input.handshakeId);
      if (!view || view.deleted || code === null)
        return none('superseded: the subscription has another handshake, or is gone');
      const callbackUrl = `${deps.publicBaseUrl}/v1/validate/${input.subscriptionId}?code=${code}`;
      let res;
      try {
        res = await deps.http.options(view.subscription.url, {
          'webhook-request-origin': deps.origin,
          'webhook-request-callback': callbackUrl,
        });
      } catch (err) {
        // Returned, not thrown: an endpoint we cannot reach may still confirm through the callback, and a
        // retry would only delay the wait for it. Anything else is a bug of ours and fails the attempt.
        if (!(err instanceof TransportError)) throw err;
        return none(err.message);
      }
      // undici lower-cases header names.
      return {
        allowedOrigin: res.headers['webhook-allowed-origin'] ?? null,
        statusCode: res.statusCode,
        error: null,
        origin: deps.origin,
      };
    },
  };
}
