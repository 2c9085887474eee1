import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { z } from 'zod';
import { MAX_BACKLOG_BYTES_LIMIT } from './workflows/state';

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

const port = z.coerce.number().int().min(0).max(65535);

/** Every setting, from the environment. Defaults first, then the environment, parsed once at start-up. */
const envSchema = z.object({
  /** HTTP port of the REST API. 0 picks a free one. */
  PORT: port.default(3000),
  /** Where the embedded dev server keeps its SQLite file and where the generated API key is stored. */
  DATA_DIR: z.string().min(1).default('./data'),
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
  /** Public base URL of this API, used for validation callbacks and its origin header. */
  PUBLIC_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** CIDRs that delivery targets may resolve into although they are private/loopback/link-local. */
  ALLOWED_TARGET_NETWORKS: cidrListSchema.default([]),
  LOG_LEVEL: z.enum(logLevels).default('info'),
  /** Most events a subscription may hold queued; a publish beyond it answers 503. */
  MAX_BACKLOG: z.coerce.number().int().min(1).max(100_000).default(5000),
  /**
   * Most bytes of serialised events a subscription may hold queued. The queue travels in the workflow's
   * continue-as-new input, so the default keeps it far under Temporal's 2 MB payload limit.
   */
  MAX_BACKLOG_BYTES: z.coerce
    .number()
    .int()
    .min(64 * 1024)
    .max(MAX_BACKLOG_BYTES_LIMIT)
    .default(384 * 1024),
  /** Most subscriptions of one tenant: its registry travels in one workflow's continue-as-new input. */
  MAX_SUBSCRIPTIONS_PER_TENANT: z.coerce.number().int().min(1).max(5000).default(2000),
});

export interface Config {
  port: number;
  dataDir: string;
  temporal: {
    /** null: start the embedded dev server. */
    address: string | null;
    namespace: string;
    taskQueue: string;
    devPort: number;
    uiPort: number;
  };
  apiKeys: { tenant: string; key: string }[] | null;
  publicBaseUrl: string;
  allowedTargetNetworks: string[];
  logLevel: (typeof logLevels)[number];
  /** Backlog caps per subscription. */
  backlog: { maxEvents: number; maxBytes: number };
  maxSubscriptionsPerTenant: number;
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
  return {
    port: e.PORT,
    dataDir: resolve(e.DATA_DIR),
    temporal: {
      address: e.TEMPORAL_ADDRESS ?? null,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      devPort: e.TEMPORAL_DEV_PORT,
      uiPort: e.TEMPORAL_UI_PORT,
    },
    apiKeys: e.API_KEYS ?? null,
    publicBaseUrl: (e.PUBLIC_BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    allowedTargetNetworks: e.ALLOWED_TARGET_NETWORKS,
    logLevel: e.LOG_LEVEL,
    backlog: { maxEvents: e.MAX_BACKLOG, maxBytes: e.MAX_BACKLOG_BYTES },
    maxSubscriptionsPerTenant: e.MAX_SUBSCRIPTIONS_PER_TENANT,
  };
}
