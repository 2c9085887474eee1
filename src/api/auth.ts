import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import type { ApiKey } from './keys';
import { HttpError } from './errors';

/** sha256 of a key: comparing digests of equal length keeps the comparison constant-time. */
function digest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/**
 * `Authorization: Bearer <key>` → the key's tenant in `res.locals.tenant`. Checked before the body is
 * read. A key sees only its own tenant's resources (others answer 404 in the handlers).
 */
export function requireApiKey(keys: ApiKey[]): RequestHandler {
  const known = keys.map((k) => ({ tenant: k.tenant, digest: digest(k.key) }));
  return (req, res, next) => {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) return next(HttpError.unauthorized());
    const presented = digest(match[1]!);
    let tenant: string | null = null;
    for (const k of known) if (timingSafeEqual(k.digest, presented)) tenant = k.tenant;
    if (!tenant) return next(HttpError.unauthorized());
    res.locals.tenant = tenant;
    next();
  };
}

/** The tenant of an authenticated request. */
export function tenantOf(res: Response): string {
  return res.locals.tenant as string;
}
