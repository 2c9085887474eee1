import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { DIALECTS, freshDatabase } from '../support/store';

const CHILD = join(__dirname, 'support', 'open-store.ts');

/** Runs open-store.ts in a process of its own; resolves with its exit code and output. */
function openInChild(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], { env: { ...process.env, ...env } });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

describe.each(DIALECTS)('migrations on %s', (dialect) => {
  // An API and a worker process started together on a new store (npm run start:api + start:worker,
  // or compose): both migrate it at once. Each must find the migrations done or do them, never fail.
  it('two processes opening a new store at once both succeed, and the schema is made once', async () => {
    for (let round = 0; round < 3; round++) {
      const database = await freshDatabase(dialect);
      try {
        const env = { DATA_DIR: database.dataDir, ...(database.url ? { DATABASE_URL: database.url } : {}) };
        const [a, b] = await Promise.all([openInChild(env), openInChild(env)]);
        // On failure the received value is the child's output, which says why.
        for (const child of [a, b]) expect(child.code === 0 ? 'exit 0' : child.out).toBe('exit 0');
        expect(a.out).toBe(b.out);
        const tables = JSON.parse(a.out) as string[];
        expect(tables).toEqual(expect.arrayContaining(['events', 'portal_sessions', 'hookline_migrations']));
      } finally {
        database.cleanup();
      }
    }
  });
});
