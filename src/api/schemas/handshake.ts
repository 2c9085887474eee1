/** Schemas of the CloudEvents handshake's callback (`GET|POST /v1/validate/{id}?code=`). */
import { z } from 'zod';

/** `GET|POST /v1/validate/{id}?code=`. Any string is taken: a wrong code answers 403, not 400. */
export const HandshakeCallbackQuery = z.object({
  code: z
    .string()
    .max(512, 'must be at most 512 characters')
    .meta({ description: 'The 32 alphanumerics of the `WebHook-Request-Callback` URL.' }),
});
export type HandshakeCallbackQuery = z.infer<typeof HandshakeCallbackQuery>;

/** `200` answer of the handshake callback: the subscription is active now. */
export const HandshakeCallbackOut = z.object({ status: z.literal('active') });
export type HandshakeCallbackOutput = z.infer<typeof HandshakeCallbackOut>;
