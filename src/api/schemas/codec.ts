/**
 * The Temporal codec-server protocol body: `temporal.api.common.v1.Payloads` in proto3 JSON, so every
 * bytes field (each metadata value and `data`) is base64. The same shape goes in and comes out.
 */
import { z } from 'zod';

/** Standard or URL-safe base64, padding optional (proto3 JSON parsers accept all of them). */
const Base64 = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'must be base64');

export const PayloadJson = z.object({
  metadata: z.record(z.string(), Base64).optional(),
  data: Base64.optional(),
});
export type PayloadJson = z.infer<typeof PayloadJson>;

/** Unknown members are ignored, as proto3 JSON readers do; an absent `payloads` is an empty list. */
export const PayloadsJson = z.object({ payloads: z.array(PayloadJson).default([]) });
export type PayloadsJson = z.infer<typeof PayloadsJson>;
