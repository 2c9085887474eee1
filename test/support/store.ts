import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeliveryRequest } from '../../src/activities/deliver';
import type { HooklineEvent, Subscription } from '../../src/domain/types';
import { openStore, type Store } from '../../src/store';
import type { EncryptionKeys } from '../../src/temporal/codec';
import { createTestDatabase } from './postgres';

/** The signing secret of test subscriptions (Standard Webhooks form). */
export const TEST_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/** Every store test runs on both databases, for real. */
export const DIALECTS = ['sqlite', 'postgres'] as const;
export type TestDialect = (typeof DIALECTS)[number];

/**
 * The database of tests that run on one (the REST API, the workflows): SQLite, or PostgreSQL when
 * HOOKLINE_TEST_DATABASE=postgres (`npm run test:postgres`, part of `npm test`).
 */
export function testDialect(): TestDialect {
  return process.env.HOOKLINE_TEST_DATABASE === 'postgres' ? 'postgres' : 'sqlite';
}

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

/** An event as the API would store it (type `order.created`, `data` naming its id); `overrides` win. */
export function makeEvent(id: string, overrides: Partial<HooklineEvent> = {}): HooklineEvent {
  return {
    id,
    type: 'order.created',
    source: 'test',
    subject: null,
    category: null,
    labels: {},
    time: '2026-12-01T00:00:00.000Z',
    data: { id },
    ...overrides,
  };
}

/** A subscription row of `tenant` as the API would create it; `overrides` win. */
export function makeSubscription(tenant: string, overrides: Partial<Subscription> = {}): Subscription {
  const now = new Date().toISOString();
  return {
    id: `sub_${randomUUID().replace(/-/g, '')}`,
    tenant,
    url: `https://${randomUUID()}.example.com/hooks`,
    name: null,
    eventTypes: ['*'],
    subject: null,
    categories: null,
    labels: null,
    format: 'raw',
    status: 'active',
    requireValidation: false,
    maxBatchSize: 100,
    headers: {},
    rateLimitPerSecond: null,
    description: null,
    metadata: {},
    version: 1,
    createdAt: now,
    updatedAt: now,
    ...overrides,
  };
}

/**
 * A subscription to `url` holding `events` in its queue: what a delivery activity needs, without a
 * workflow. Returns the request of the first attempt of the whole queue as one batch.
 */
export async function queuedBatch(
  store: Store,
  url: string,
  events: HooklineEvent[],
  msgId: string,
): Promise<DeliveryRequest> {
  const tenant = `t-${randomUUID().slice(0, 8)}`;
  const sub = makeSubscription(tenant, { url });
  await store.subscriptions.create(sub, TEST_SECRET, null, 10_000);
  await store.publish([{ tenant, events }], { maxEvents: 1_000_000, maxBytes: 10 * 1024 ** 3 }, Date.now());
  return { subscriptionId: sub.id, msgId, afterSeq: 0, maxSeq: events.length, attempt: 1, at: Date.now() };
}
