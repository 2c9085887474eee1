import { chmodSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * $DATA_DIR holds signing secrets, static header values and event data (the SQLite store, the dev
 * server's database, the generated API key): 0700, every file in it 0600, whoever created them.
 * The umask makes every file this process and its children (the dev server) create private too.
 */
export function privateDataDir(dir: string): void {
  process.umask(0o077);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = statSync(path);
    if (st.isFile()) chmodSync(path, 0o600);
    else if (st.isDirectory()) privateDataDir(path);
  }
}
