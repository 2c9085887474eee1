/**
 * The one harness of the fault suite (test/README.md): every case starts here. `startFaultCase` sets
 * up what the cases share (the service in the shape the case needs, a loopback receiver, the ledger,
 * producers, the drain and its ledger check, clean-up), so a case file holds only its fault.
 *
 * Service shapes:
 * - `in-process`: the real app in the test's own process (test/support/app.ts) on the shared dev
 *   server, for cases that inject a test resolver or read metrics;
 * - `embedded`: `npm start` as shipped, spawned: one process with its own embedded dev server in the
 *   case's DATA_DIR (`start('all')`), for cases that kill Temporal itself;
 * - `processes`: spawned `src/main.ts` processes (`start('all' | 'api' | 'worker')`) against the
 *   shared dev server on a task queue of the case's own, sharing the case's store (SQLite in DATA_DIR,
 *   or a fresh PostgreSQL database with `database: 'postgres'`);
 * - `external`: a Hookline the case does not start, reached through its APIs (the stack suite's
 *   production shape, test/stack/support/fault-case.ts); the case deletes what it registered there.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { LookupFunction } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Metrics } from '../../../src/metrics';
import type { HostLookup } from '../../../src/net/ssrf';
import { KEYS, startTestApp, type TestApp } from '../../support/app';
import { freePort } from '../../support/global-setup';
import { freshDatabase } from '../../support/store';
import { devServerAddress, uniqueTaskQueue } from '../../support/temporal';
import { until } from './env';
import { drainAndCheck, type CaseFigures, type ReportCase } from './drain';
import { Ledger, type Verdict } from './ledger';
import { Producer, type ProducerOptions } from './producer';
import { FaultReceiver } from './receiver';
import {
  alive,
  api,
  devServerPid,
  killGroup,
  spawnFaultService,
  subscribe,
  waitForStatus,
  type ServiceProcess,
} from './service';

export type ServiceShape =
  | {
      kind: 'in-process';
      env?: Record<string, string>;
      resolver?: { host: HostLookup; socket: LookupFunction };
      metrics?: Metrics;
    }
  | { kind: 'embedded' }
  | { kind: 'processes' }
  | {
      kind: 'external';
      /** Base URLs of its API processes: the first is the case's `url`. */
      urls: string[];
      key: string;
      tenant: string;
    };

export type Role = 'all' | 'api' | 'worker';

export interface FaultCaseOptions {
  /** The case's name in the results (test/faults/results). */
  name: string;
  service: ServiceShape;
  /** The store of spawned processes; default SQLite in DATA_DIR. */
  database?: 'sqlite' | 'postgres';
  /** Environment of every spawned process (on top of the harness's). */
  env?: Record<string, string>;
  /** Where the receiver listens (default 127.0.0.1, a free port). */
  receiver?: { host?: string; port?: number };
  /** Where the case's figures go; default the fault suite's results (test/faults/results). */
  report?: ReportCase;
}

/** A spawned service process of the case. */
export interface FaultProcess extends ServiceProcess {
  role: Role;
  /** Its API's base URL; null for a worker-only process. */
  url: string | null;
  port: number | null;
  /** SIGKILLs its process group (the process and any dev server it started). */
  kill(): void;
  /** SIGTERM; resolves with its exit code (or signal), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<number | string | null>;
}

export interface StartOptions {
  /** API port (a restart passes the old process's port); default: a free one. */
  port?: number;
  env?: Record<string, string>;
  /** ms to wait for readiness. */
  timeoutMs?: number;
}

export interface CaseDrainOptions {
  /** ms since the epoch when the fault ended: the drain time starts there. Default: now. */
  recoveredAt?: number;
  timeoutMs: number;
  /** More figures for the report; a function is called with the verdict, after the drain. */
  extra?: CaseFigures | ((verdict: Verdict) => CaseFigures);
}

export interface FaultCase {
  readonly name: string;
  readonly startedAt: number;
  /** The API key of the case's tenant. */
  readonly key: string;
  readonly tenant: string;
  readonly dataDir: string;
  readonly receiver: FaultReceiver;
  readonly ledger: Ledger;
  /** Every subscription registered through `subscribe`, in order. */
  readonly subscriptions: string[];
  /** Every producer made through `producer`. */
  readonly producers: Producer[];
  /** Every process spawned, in start order. */
  readonly processes: FaultProcess[];
  /** The in-process app (shape `in-process`), else null. */
  readonly app: TestApp | null;
  /** Base URL of the in-process app, or of the first API process started. */
  readonly url: string;
  /** Environment every spawned process gets. */
  readonly env: Record<string, string>;
  /** Spawns a service process and waits until it is ready (API: /readyz 200; worker: polling). */
  start(role: Role, opts?: StartOptions): Promise<FaultProcess>;
  /**
   * Registers a raw-format subscription for every event type: at `receiver.url + target` when
   * `target` is a path, else at the URL `target`. Through the API at `via` (default: the case's).
   */
  subscribe(target: string, extra?: Record<string, unknown>, via?: string): Promise<string>;
  /**
   * A started producer publishing through `url` (default: the case's), owed to every subscription
   * registered so far and later.
   */
  producer(opts: Partial<Omit<ProducerOptions, 'ledger'>> & { prefix: string; url?: () => string }): Producer;
  /** A JSON call to the case's API with its key. */
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  /**
   * Entries the store still holds for the case's subscriptions (GET …/queue `size`, the batch in
   * flight included). 0 means every queue is done in the store, so each idle subscriber is marked
   * idle there and the next publish owes it a wake.
   */
  queued(): Promise<number>;
  /** A Temporal client of the case's cluster (the shared dev server, or the embedded one). */
  temporal(): Promise<Client>;
  /** Stops every producer, drains, checks the ledger and reports the case's figures (answered too). */
  drain(o: CaseDrainOptions): Promise<Verdict & { figures: CaseFigures }>;
  /** Stops everything the case started and removes its files; safe to call twice. */
  cleanup(): Promise<void>;
}

export async function startFaultCase(opts: FaultCaseOptions): Promise<FaultCase> {
  const startedAt = Date.now();
  const shape = opts.service;
  const dataDir = mkdtempSync(join(tmpdir(), `hookline-faults-${opts.name}-`));
  const receiver = await FaultReceiver.start(opts.receiver?.host, opts.receiver?.port);
  const ledger = new Ledger();
  const subscriptions: string[] = [];
  const producers: Producer[] = [];
  const processes: FaultProcess[] = [];
  let connection: Connection | null = null;
  let client: Client | null = null;
  let database: Awaited<ReturnType<typeof freshDatabase>> | null = null;

  let app: TestApp | null = null;
  let key = `faults-${randomBytes(12).toString('hex')}`;
  // A tenant of its own per case: ingress workflow ids on the shared dev server must not collide.
  let tenant = `f-${opts.name.replace(/[^a-z0-9]+/g, '-').slice(0, 40)}-${randomBytes(3).toString('hex')}`;
  const env: Record<string, string> = {
    DATA_DIR: dataDir,
    API_KEYS: `${tenant}:${key}`,
    ALLOWED_TARGET_NETWORKS: '127.0.0.0/8',
    LOG_LEVEL: 'info',
  };
  let devAddress: string | null = null;
  if (shape.kind === 'external') {
    key = shape.key;
    tenant = shape.tenant;
  } else if (shape.kind === 'in-process') {
    app = await startTestApp(shape.env ?? {}, { resolver: shape.resolver, metrics: shape.metrics });
    key = KEYS.acme;
    tenant = app.tenants.acme;
    devAddress = devServerAddress();
  } else if (shape.kind === 'embedded') {
    const dev = await freePort();
    Object.assign(env, {
      TEMPORAL_ADDRESS: '',
      TEMPORAL_DEV_PORT: String(dev),
      TEMPORAL_UI_PORT: String(await freePort()),
    });
    devAddress = `127.0.0.1:${dev}`;
  } else {
    Object.assign(env, {
      TEMPORAL_ADDRESS: devServerAddress(),
      TEMPORAL_TASK_QUEUE: uniqueTaskQueue(`faults-${opts.name}`),
    });
    devAddress = devServerAddress();
  }
  if ((shape.kind === 'embedded' || shape.kind === 'processes') && opts.database === 'postgres') {
    database = await freshDatabase('postgres');
    env.DATABASE_URL = database.url!;
  }
  Object.assign(env, opts.env ?? {});

  let firstUrl: string | null = app?.url ?? (shape.kind === 'external' ? shape.urls[0]! : null);

  const start = async (role: Role, so: StartOptions = {}): Promise<FaultProcess> => {
    if (shape.kind === 'in-process' || shape.kind === 'external') {
      throw new Error(`an ${shape.kind} case spawns no service`);
    }
    const port = role === 'worker' ? null : (so.port ?? (await freePort()));
    const args = role === 'api' ? ['--api-only'] : role === 'worker' ? ['--worker-only'] : [];
    const procEnv = { ...env, ...(port === null ? {} : { PORT: String(port) }), ...(so.env ?? {}) };
    const proc = spawnFaultService(procEnv, args);
    const url = port === null ? null : `http://127.0.0.1:${port}`;
    const p: FaultProcess = {
      ...proc,
      role,
      url,
      port,
      kill: () => killGroup(proc.pid),
      async stop(graceMs = 20_000) {
        if (!alive(proc.pid)) return proc.exited;
        proc.child.kill('SIGTERM');
        const timer = setTimeout(() => killGroup(proc.pid), graceMs);
        try {
          return await proc.exited;
        } finally {
          clearTimeout(timer);
        }
      },
    };
    processes.push(p);
    const timeoutMs = so.timeoutMs ?? 180_000;
    if (url) await waitForStatus(`${url}/readyz`, 200, timeoutMs, proc);
    else {
      await until(
        () => {
          if (proc.child.exitCode !== null) throw new Error(`worker exited:\n${proc.output()}`);
          return proc.output().includes('worker polling');
        },
        timeoutMs,
        'worker polling',
      );
    }
    firstUrl ??= url;
    return p;
  };

  const baseUrl = () => {
    if (!firstUrl) throw new Error('no API started yet');
    return firstUrl;
  };
  /** The case's API, or for an external service the first of its APIs that answers /healthz. */
  const liveUrl = () => (shape.kind === 'external' ? firstLiveUrl(shape.urls) : baseUrl());

  let cleaned = false;
  const fc: FaultCase = {
    name: opts.name,
    startedAt,
    key,
    tenant,
    dataDir,
    receiver,
    ledger,
    subscriptions,
    producers,
    processes,
    app,
    get url() {
      return baseUrl();
    },
    env,
    start,
    async subscribe(target, extra = {}, via) {
      const url = target.startsWith('/') ? `${receiver.url}${target}` : target;
      const id = await subscribe(via ?? baseUrl(), key, url, extra);
      subscriptions.push(id);
      return id;
    },
    producer(po) {
      const url = po.url ?? baseUrl;
      const producer = new Producer({
        batchSize: 10,
        ...po,
        baseUrl: url,
        apiKey: key,
        subscriptions: po.subscriptions ?? (() => subscriptions),
        ledger,
      }).start();
      producers.push(producer);
      return producer;
    },
    call: (method, path, body) => api(baseUrl(), key, method, path, body),
    async queued() {
      let total = 0;
      for (const id of subscriptions) {
        const res = await api(baseUrl(), key, 'GET', `/v1/subscriptions/${id}/queue`);
        if (res.status !== 200) throw new Error(`queue of ${id}: ${res.status} ${JSON.stringify(res.body)}`);
        total += (res.body as { size: number }).size;
      }
      return total;
    },
    async temporal() {
      if (devAddress === null) throw new Error('the case does not know its Temporal cluster');
      if (!client) {
        connection = await Connection.connect({ address: devAddress });
        client = new Client({ connection, namespace: 'default' });
      }
      return client;
    },
    drain: (o) =>
      drainAndCheck({
        name: opts.name,
        ledger,
        receiver,
        producers,
        apiUrl: liveUrl,
        apiKey: key,
        subscriptions,
        recoveredAt: o.recoveredAt ?? Date.now(),
        startedAt,
        timeoutMs: o.timeoutMs,
        extra: o.extra,
        report: opts.report,
      }),
    async cleanup() {
      if (cleaned) return;
      cleaned = true;
      for (const p of producers) p.abort();
      Producer.abortAll();
      if (shape.kind === 'external') {
        const url = await firstLiveUrl(shape.urls).catch(() => null);
        for (const id of url ? subscriptions : []) {
          await api(url!, key, 'DELETE', `/v1/subscriptions/${id}`).catch(() => undefined);
        }
      }
      for (const p of processes) p.kill();
      await Promise.all(processes.map((p) => p.exited));
      // An orphaned embedded dev server (its service was SIGKILLed alone) holds the case's files.
      const dev = shape.kind === 'embedded' ? devServerPid(dataDir) : null;
      if (dev && alive(dev)) process.kill(dev, 'SIGKILL');
      await connection?.close();
      await app?.stop();
      await receiver.close();
      database?.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return fc;
}

/** The first of `urls` whose /healthz answers 2xx within 5 s each. */
async function firstLiveUrl(urls: string[]): Promise<string> {
  for (const url of urls) {
    const ok = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5_000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return url;
  }
  throw new Error(`no API answers: ${urls.join(', ')}`);
}
