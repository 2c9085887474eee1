import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '../../src/store';
import type { EncryptionKeys } from '../../src/temporal/codec';
import { createTestDatabase } from './postgres';

/** Every store test runs on both databases, for real. */
export const DIALECTS = ['sqlite', 'postgres'] as const;
export type TestDialect = (typeof DIALECTS)[number];

/** The test PostgreSQL's admin URL (from the global setup). */
export function testPostgresUrl(): string {
  const url = process.env.HOOKLINE_TEST_PG_URL;
  if (!url)
    throw new Error('HOOKLINE_TEST_PG_URL is not set: run the tests through Jest (its global setup sets it)');
  return url;
}

/** A fresh database of `dialect`: its options for openStore (or a service's DATABASE_URL / DATA_DIR). */
export async function freshDatabase(
  dialect: TestDialect,
): Promise<{ url: string | null; dataDir: string; cleanup(): void }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hookline-store-'));
  const url = dialect === 'postgres' ? await createTestDatabase(testPostgresUrl()) : null;
  return { url, dataDir, cleanup: () => rmSync(dataDir, { recursive: true, force: true }) };
}

export interface TestStore extends Store {
  /** Closes the store and removes its files. */
  dispose(): Promise<void>;
}

export async function openTestStore(
  dialect: TestDialect,
  opts: { encryption?: EncryptionKeys | null } = {},
): Promise<TestStore> {
  const database = await freshDatabase(dialect);
  const store = await openStore({
    url: database.url,
    dataDir: database.dataDir,
    sqliteSynchronous: 'normal',
    encryption: opts.encryption ?? null,
    poolSize: 20,
  });
  return Object.assign(store, {
    async dispose() {
      await store.close();
      database.cleanup();
    },
  });
}
