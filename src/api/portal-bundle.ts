/**
 * The consumer portal's script, built from `portal/src` (Preact, TypeScript) by esbuild when a process
 * first needs it: no built file is committed or kept on disk, and `npm start` builds what it serves.
 * About 50 KB minified; one build per process.
 */
import { join } from 'node:path';
import { build } from 'esbuild';

/** The portal's page, style and source. */
export const PORTAL_DIR = join(__dirname, '..', '..', 'portal');

let built: Promise<string> | null = null;

/** The bundled script (a failed build is tried again on the next call). */
export function portalBundle(): Promise<string> {
  built ??= bundle().catch((err: unknown) => {
    built = null;
    throw err;
  });
  return built;
}

async function bundle(): Promise<string> {
  const result = await build({
    entryPoints: [join(PORTAL_DIR, 'src', 'main.tsx')],
    bundle: true,
    write: false,
    format: 'iife',
    target: 'es2022',
    minify: true,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    logLevel: 'silent',
    // Nothing of the machine that built it: no absolute paths in the served script.
    absWorkingDir: PORTAL_DIR,
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  return result.outputFiles[0]!.text;
}
