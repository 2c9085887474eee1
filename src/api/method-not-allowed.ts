import type { RequestHandler } from 'express';
import { HttpError } from './errors';
import type { OpenApiDocument } from './openapi';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

interface PathMethods {
  pattern: RegExp;
  allow: string;
}

/** `/v1/subscriptions/{id}` → a RegExp matching one segment per `{param}`. */
function templateToRegExp(template: string): RegExp {
  const source = template
    .split(/(\{[^}]+\})/)
    .map((part) => (part.startsWith('{') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}/?$`);
}

/**
 * Answers 405 `method_not_allowed` with an `Allow` header for a path the API documents when the
 * method is not one of its operations (HEAD goes with GET). Mounted after every router, so a request
 * reaching it was not handled; paths the document does not name fall through to 404. The document is
 * the one served at /openapi.json, so the two never disagree.
 */
export function methodNotAllowed(document: () => OpenApiDocument): RequestHandler {
  let table: PathMethods[] | undefined;
  return (req, _res, next) => {
    table ??= Object.entries(document().paths).map(([template, item]) => {
      const methods = METHODS.filter((m) => m in item).map((m) => m.toUpperCase());
      if (methods.includes('GET') && !methods.includes('HEAD')) methods.push('HEAD');
      return { pattern: templateToRegExp(template), allow: methods.join(', ') };
    });
    const match = table.find((entry) => entry.pattern.test(req.path));
    // A documented method that got here was not routed (a path the template's segments allow but a
    // route does not): that is a 404, not a 405.
    if (!match || match.allow.split(', ').includes(req.method)) {
      next();
      return;
    }
    next(HttpError.methodNotAllowed(req.method, match.allow));
  };
}
