import { Router } from 'express';
import { buildOpenApiDocument, type OpenApiDocument } from '../openapi';

/** `GET /openapi.json`: the OpenAPI 3.1 document, built once on first request and then served as is. */
export function openapiRouter(version: string): Router {
  const router = Router();
  let document: OpenApiDocument | undefined;
  router.get('/openapi.json', (_req, res) => {
    document ??= buildOpenApiDocument({ version });
    res.json(document);
  });
  return router;
}
