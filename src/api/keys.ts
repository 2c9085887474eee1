import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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
 */
export function resolveApiKeys(config: Config): { keys: ApiKey[]; generated: boolean; file: string | null } {
  if (config.apiKeys) return { keys: config.apiKeys, generated: false, file: null };
  const file = join(config.dataDir, 'api-key');
  if (existsSync(file)) {
    const key = readFileSync(file, 'utf8').trim();
    if (key.length >= 16) return { keys: [{ tenant: 'default', key }], generated: false, file };
  }
  mkdirSync(config.dataDir, { recursive: true });
  const key = `hk_${randomBytes(24).toString('base64url')}`;
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { keys: [{ tenant: 'default', key }], generated: true, file };
}
