import { dirname, join } from 'node:path';
import { Router, type Response } from 'express';

/** Where the page and its initializer live (plain files beside this module's folder). */
const PAGE_DIR = join(__dirname, '..', 'docs');

/**
 * The only Swagger UI files served, by name: nothing else of the package (source maps, its demo
 * index.html pointing at the petstore) is reachable.
 */
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

/**
 * Every script and style comes from this origin; `data:` images are the icons inlined in
 * swagger-ui.css. No inline script runs (the initializer is a file), no frame may embed the page.
 */
export const DOCS_CSP = [
  "default-src 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Asset lifetime in browser caches, in ms (assets change only with an upgrade of swagger-ui-dist). */
const ASSET_MAX_AGE_MS = 3600_000;

function secure(res: Response): void {
  res.set({
    'Content-Security-Policy': DOCS_CSP,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
  });
}

/**
 * `GET /docs`: a readable page of the API, Swagger UI rendering `/openapi.json`. Everything it loads is
 * served here from the installed `swagger-ui-dist` package: no CDN. Public, like `/openapi.json`.
 */
export function docsRouter(): Router {
  const router = Router();
  // The package's own folder (what its getAbsoluteFSPath() answers), resolved once at start-up: a
  // missing package fails here, not on the first visitor.
  const assetDir = dirname(require.resolve('swagger-ui-dist/package.json'));

  router.get('/docs', (_req, res) => {
    secure(res);
    res.set('Cache-Control', 'no-cache');
    res.type('html').sendFile(join(PAGE_DIR, 'index.html'));
  });
  router.get('/docs/init.js', (_req, res) => {
    secure(res);
    res.set('Cache-Control', 'no-cache');
    res.type('text/javascript; charset=utf-8').sendFile(join(PAGE_DIR, 'init.js'));
  });
  router.get('/docs/assets/:file', (req, res, next) => {
    const type = Object.hasOwn(ASSETS, req.params.file) ? ASSETS[req.params.file] : undefined;
    if (!type) return next();
    secure(res);
    res.type(type).sendFile(join(assetDir, req.params.file), { maxAge: ASSET_MAX_AGE_MS });
  });
  return router;
}
