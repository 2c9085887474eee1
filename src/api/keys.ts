import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config';

export interface ApiKey {
  tenant: string;
  key: string;
}

/**
 * The API keys in force: `API_KEYS`, or else one key for tenant `default` kept in
 * `$DATA_DIR/api-key` (mode 0600), generated on first start. `generated` is true only that first time,
 * so the caller prints the new key once.
 * Hazard: API replicas that share DATA_DIR (one volume) start together. The key is written to a file
 * of this process's own and linked into place, which fails if another process got there first; the
 * loser then reads the winner's key, so every replica answers to the same one.
 */
export function resolveApiKeys(config: Config): { keys: ApiKey[]; generated: boolean; file: string | null } {
  if (config.apiKeys) return { keys: config.apiKeys, generated: false, file: null };
  const file = join(config.dataDir, 'api-key');
  const existing = readKey(file);
  if (existing) return { keys: [{ tenant: 'default', key: existing }], generated: false, file };
  mkdirSync(config.dataDir, { recursive: true });
  const key = `hk_${randomBytes(24).toString('base64url')}`;
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, `${key}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  try {
    linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // A link is never seen half-written: a file there is another process's key, or a leftover
    // too short to be one, which is replaced as before.
    const theirs = readKey(file);
    if (theirs) return { keys: [{ tenant: 'default', key: theirs }], generated: false, file };
    renameSync(tmp, file);
  } finally {
    rmSync(tmp, { force: true });
  }
  return { keys: [{ tenant: 'default', key }], generated: true, file };
}

/** The key in `file`, or null when there is none (no file, or too short to be one). */
function readKey(file: string): string | null {
  if (!existsSync(file)) return null;
  const key = readFileSync(file, 'utf8').trim();
  return key.length >= 16 ? key : null;
}
