import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { z } from 'zod';
import { duplicateKeyIdError, parseKeySpec, type EncryptionKey, type EncryptionKeys } from './temporal/codec';

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** `tenant:key` pairs, comma-separated. Tenants are lowercase slugs; keys are at least 16 characters. */
const apiKeysSchema = z
  .string()
  .transform((raw, ctx) => {
    const keys: { tenant: string; key: string }[] = [];
    for (const pair of raw
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)) {
      const at = pair.indexOf(':');
      const tenant = pair.slice(0, at);
      const key = pair.slice(at + 1);
      if (at <= 0 || !/^[a-z0-9][a-z0-9-]{0,62}$/.test(tenant) || key.length < 16) {
        ctx.addIssue({
          code: 'custom',
          message: 'each entry must be tenant:key (tenant a lowercase slug, key >= 16 characters)',
        });
        return z.NEVER;
      }
      keys.push({ tenant, key });
    }
    return keys;
  })
  .refine((keys) => new Set(keys.map((k) => k.key)).size === keys.length, 'a key may appear only once');

/** CIDR list such as `10.0.0.0/8,127.0.0.1/32`. */
const cidrListSchema = z.string().transform((raw, ctx) => {
  const cidrs = raw
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  for (const cidr of cidrs) {
    const [ip, bits] = cidr.split('/');
    const family = ip ? isIP(ip) : 0;
    const max = family === 6 ? 128 : 32;
    const prefix = Number(bits);
    if (!family || bits === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > max) {
      ctx.addIssue({ code: 'custom', message: `not a CIDR: ${cidr}` });
      return z.NEVER;
    }
  }
  return cidrs;
});

/** `[<id>:]<base64 of 32 bytes>`, comma-separated. Messages never echo key material. */
const encryptionKeysSchema = z.string().transform((raw, ctx) => {
  const keys: EncryptionKey[] = [];
  for (const spec of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const key = parseKeySpec(spec);
    if (typeof key === 'string') {
      ctx.addIssue({ code: 'custom', message: `entry ${keys.length + 1}: ${key}` });
      return z.NEVER;
    }
    keys.push(key);
  }
  return keys;
});

/** Origins such as `http://localhost:8233,https://temporal.example.com` (scheme, host, port; no path). */
const originListSchema = z.string().transform((raw, ctx) => {
  const origins = raw
    .split(',')
    .map((o) => o.trim().replace(/\/+$/, ''))
    .filter(Boolean);
  for (const origin of origins) {
    const parsed = URL.canParse(origin) ? new URL(origin) : null;
    // Nothing after the authority: no path, query, fragment or credentials.
    const extra = /[/?#@]/.test(origin.replace(/^[a-z][a-z0-9+.-]*:\/\//i, ''));
    if (!parsed || extra || !/^https?:$/.test(parsed.protocol)) {
      ctx.addIssue({ code: 'custom', message: `not an origin (scheme://host[:port]): ${origin}` });
      return z.NEVER;
    }
  }
  return origins.map((o) => new URL(o).origin);
});

const port = z.coerce.number().int().min(0).max(65535);

/** Operator keys, comma-separated, each at least 16 characters (ADMIN_API_KEYS, CODEC_AUTH_KEYS). */
const operatorKeysSchema = z
  .string()
  .transform((raw) =>
    raw
      .split(',')
      .map((k) => k.trim())
      .filter(Boolean),
  )
  .refine(
    (keys) => keys.length > 0 && keys.every((k) => k.length >= 16),
    'each key must be >= 16 characters',
  );

/**
 * Every setting, from the environment. Defaults first, then the environment, parsed once at start-up.
 *
 * Not a setting, on purpose: HOOKLINE_TEST_KILL_AFTER_COMMITS, a test-only hook of the fault suite
 * (the process SIGKILLs itself after its N-th publish commit), read by src/main.ts alone.
 */
const envSchema = z.object({
  /** HTTP port of the REST API. 0 picks a free one. */
  PORT: port.default(3000),
  /**
   * Where the embedded store (SQLite) and the embedded dev server keep their files, and where the
   * generated API key is stored. Made 0700, its files 0600: they hold secrets and event data.
   */
  DATA_DIR: z.string().min(1).default('./data'),
  /** PostgreSQL for the store (`postgres://user:password@host:5432/db`). Unset: SQLite in DATA_DIR. */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  /**
   * SQLite's `synchronous` in WAL mode. `normal`: a commit survives a crash (SIGKILL) of any process;
   * the last commits before a power loss or an OS crash may be lost. `full`: those survive too, at
   * the cost of an fsync per commit.
   */
  SQLITE_SYNCHRONOUS: z.enum(['normal', 'full']).default('normal'),
  /** Connections of each process's PostgreSQL pool. */
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  /** host:port of a Temporal frontend. Unset: start the embedded dev server. */
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^\s:/]+:\d{1,5}$/, 'must be host:port')
    .optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('hookline'),
  /** Port of the embedded dev server's frontend (gRPC). */
  TEMPORAL_DEV_PORT: port.default(7233),
  /** Port of the embedded dev server's Web UI. */
  TEMPORAL_UI_PORT: port.default(8233),
  /** `tenant:key,tenant:key`. Unset: one key for tenant `default` is generated into $DATA_DIR/api-key. */
  API_KEYS: apiKeysSchema.optional(),
  /**
   * Operator keys (comma-separated, >= 16 characters each): they reach only `/v1/tenants…`, where
   * tenants and their API keys are managed. Unset: those routes answer 401 (403 to a tenant key).
   */
  ADMIN_API_KEYS: operatorKeysSchema.optional(),
  /** Events per calendar month (UTC) of tenants that name no `eventsPerMonth`. Unset: no cap. */
  DEFAULT_EVENTS_PER_MONTH: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  /** Public base URL of this API, used for handshake callbacks and its origin header. */
  PUBLIC_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** CIDRs that delivery targets may resolve into although they are private/loopback/link-local. */
  ALLOWED_TARGET_NETWORKS: cidrListSchema.default([]),
  /**
   * Origins whose pages may show the consumer portal in a frame (the tenant's own dashboard), as
   * the portal's CSP `frame-ancestors`. Unset: no page may frame it.
   */
  PORTAL_FRAME_ANCESTORS: originListSchema.default([]),
  LOG_LEVEL: z.enum(logLevels).default('info'),
  /**
   * Most events a subscription may hold queued (in the store); a publish, an ingress signal or a
   * redelivery beyond it answers 503 with Retry-After.
   */
  MAX_BACKLOG: z.coerce.number().int().min(1).max(1_000_000_000).default(1_000_000),
  /** Most bytes of events a subscription may hold queued (10 GiB by default); same rule as MAX_BACKLOG. */
  MAX_BACKLOG_BYTES: z.coerce
    .number()
    .int()
    .min(64 * 1024)
    .max(2 ** 50)
    .default(10 * 1024 ** 3),
  /** Most live subscriptions of one tenant (each publish matches events against all of them). */
  MAX_SUBSCRIPTIONS_PER_TENANT: z.coerce.number().int().min(1).max(1_000_000).default(100_000),
  /**
   * ms between the reconciler's scans for subscriptions that should have a running workflow and do
   * not (terminated in the Web UI, failed, never started). Wakes the store owes are re-sent after 5 s.
   */
  RECONCILE_INTERVAL_MS: z.coerce.number().int().min(1000).max(3_600_000).default(60_000),
  /**
   * Workflow runs the worker keeps in memory between tasks (its sticky cache; 0 turns it off). Each
   * cached subscription costs the worker memory (about 0.4 MB measured by bench/); one not cached is
   * replayed from its history on its next task. Unset: the SDK's default, from the V8 heap limit.
   */
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).optional(),
  /**
   * Encrypts every Temporal payload at rest (AES-256-GCM): `[<keyId>:]<base64 of 32 bytes>`. Without
   * an id, one is derived from the key. Unset: payloads are plain JSON.
   */
  PAYLOAD_ENCRYPTION_KEY: encryptionKeysSchema
    .refine((keys) => keys.length === 1, 'must be exactly one key (older keys go in PAYLOAD_DECRYPTION_KEYS)')
    .optional(),
  /** Older keys, comma-separated, same form: they decrypt what they encrypted but encrypt nothing new. */
  PAYLOAD_DECRYPTION_KEYS: encryptionKeysSchema.optional(),
  /**
   * Operator keys (comma-separated, >= 16 characters each) that may use the codec route `/codec`, which
   * decrypts any tenant's payloads. Tenant API keys are never accepted there. Unset: the route is off.
   */
  CODEC_AUTH_KEYS: operatorKeysSchema.optional(),
  /** Browser origins (the Temporal Web UI) allowed to call `/codec`. Default: the dev server's UI. */
  CODEC_CORS_ORIGINS: originListSchema.optional(),
  /** Bearer token `GET /metrics` requires. Unset: /metrics is open, like /healthz (scrapers carry no API key). */
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /**
   * Port of a listener that serves only `GET /metrics`, in any mode. The way to scrape a
   * `--worker-only` process, which has no API. Unset: no such listener.
   */
  METRICS_PORT: port.optional(),
  /**
   * host:port where the Temporal SDK core serves its own Prometheus metrics (`temporal_*`: task
   * latencies, pollers, sticky cache, slots) at `/metrics`. Unset: not exported.
   */
  TEMPORAL_METRICS_BIND: z
    .string()
    .regex(/^[^\s/]+:\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:9464')
    .optional(),
});

export interface Config {
  port: number;
  dataDir: string;
  /** The store: PostgreSQL at `url`, or SQLite in dataDir (url null). */
  database: { url: string | null; sqliteSynchronous: 'normal' | 'full'; poolSize: number };
  temporal: {
    /** null: start the embedded dev server. */
    address: string | null;
    namespace: string;
    taskQueue: string;
    devPort: number;
    uiPort: number;
  };
  apiKeys: { tenant: string; key: string }[] | null;
  /** sha256 digests of ADMIN_API_KEYS (the keys themselves are not kept); empty: no operator. */
  adminKeyDigests: Buffer[];
  /** DEFAULT_EVENTS_PER_MONTH; null: no cap. */
  defaultEventsPerMonth: number | null;
  publicBaseUrl: string;
  allowedTargetNetworks: string[];
  /** PORTAL_FRAME_ANCESTORS: origins that may frame /portal/; empty: none. */
  portalFrameAncestors: string[];
  logLevel: (typeof logLevels)[number];
  /** Backlog caps per subscription. */
  backlog: { maxEvents: number; maxBytes: number };
  maxSubscriptionsPerTenant: number;
  /** ms between the reconciler's scans for missing subscriber workflows. */
  reconcileIntervalMs: number;
  /** The worker's sticky cache size; null: the SDK's default. */
  workerMaxCachedWorkflows: number | null;
  /** Payload encryption keys; null: payloads are plain JSON (no codec). */
  encryption: EncryptionKeys | null;
  /** The codec route for the Web UI and the CLI. */
  codec: {
    /** sha256 digests of CODEC_AUTH_KEYS (the keys themselves are not kept); empty: the route is off. */
    authKeyDigests: Buffer[];
    /** Exact origins answered with CORS headers. */
    corsOrigins: string[];
  };
  metrics: {
    /** null: GET /metrics needs no token. */
    token: string | null;
    /** Port of the metrics-only listener; null: none. */
    port: number | null;
    /** host:port of the SDK core's Prometheus exporter; null: off. */
    temporalBind: string | null;
  };
}

/** Bad configuration: start-up prints the message and exits non-zero. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable counts as unset, as in most twelve-factor apps.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const encryption = encryptionFrom(e.PAYLOAD_ENCRYPTION_KEY, e.PAYLOAD_DECRYPTION_KEYS);
  const codecKeys = e.CODEC_AUTH_KEYS ?? [];
  const adminKeys = e.ADMIN_API_KEYS ?? [];
  if (adminKeys.some((k) => e.API_KEYS?.some((a) => a.key === k))) {
    throw new ConfigError(
      'Invalid configuration:\n  ADMIN_API_KEYS: an operator key may not also be a tenant API key',
    );
  }
  if (codecKeys.some((k) => e.API_KEYS?.some((a) => a.key === k))) {
    throw new ConfigError(
      'Invalid configuration:\n  CODEC_AUTH_KEYS: a codec key may not also be a tenant API key',
    );
  }
  return {
    port: e.PORT,
    dataDir: resolve(e.DATA_DIR),
    database: {
      url: e.DATABASE_URL ?? null,
      sqliteSynchronous: e.SQLITE_SYNCHRONOUS,
      poolSize: e.DATABASE_POOL_SIZE,
    },
    temporal: {
      address: e.TEMPORAL_ADDRESS ?? null,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      devPort: e.TEMPORAL_DEV_PORT,
      uiPort: e.TEMPORAL_UI_PORT,
    },
    apiKeys: e.API_KEYS ?? null,
    adminKeyDigests: adminKeys.map((k) => createHash('sha256').update(k, 'utf8').digest()),
    defaultEventsPerMonth: e.DEFAULT_EVENTS_PER_MONTH ?? null,
    publicBaseUrl: (e.PUBLIC_BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    allowedTargetNetworks: e.ALLOWED_TARGET_NETWORKS,
    portalFrameAncestors: e.PORTAL_FRAME_ANCESTORS,
    logLevel: e.LOG_LEVEL,
    backlog: { maxEvents: e.MAX_BACKLOG, maxBytes: e.MAX_BACKLOG_BYTES },
    maxSubscriptionsPerTenant: e.MAX_SUBSCRIPTIONS_PER_TENANT,
    reconcileIntervalMs: e.RECONCILE_INTERVAL_MS,
    workerMaxCachedWorkflows: e.WORKER_MAX_CACHED_WORKFLOWS ?? null,
    metrics: {
      token: e.METRICS_TOKEN ?? null,
      port: e.METRICS_PORT ?? null,
      temporalBind: e.TEMPORAL_METRICS_BIND ?? null,
    },
    encryption,
    codec: {
      authKeyDigests: codecKeys.map((k) => createHash('sha256').update(k, 'utf8').digest()),
      corsOrigins: e.CODEC_CORS_ORIGINS ?? [
        `http://localhost:${e.TEMPORAL_UI_PORT}`,
        `http://127.0.0.1:${e.TEMPORAL_UI_PORT}`,
      ],
    },
  };
}

/** Current and older keys as one set; ids must be unique across both. */
function encryptionFrom(current: EncryptionKey[] | undefined, older: EncryptionKey[] | undefined) {
  if (!current && !older) return null;
  const keys: EncryptionKeys = { current: current?.[0] ?? null, decryptOnly: older ?? [] };
  const duplicate = duplicateKeyIdError(keys);
  if (duplicate) throw new ConfigError(`Invalid configuration:\n  PAYLOAD_DECRYPTION_KEYS: ${duplicate}`);
  return keys;
}
