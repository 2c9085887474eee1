/**
 * The service as deployed: `node --import tsx src/main.ts --api-only` and `--worker-only` processes
 * (what `npm run start:api` / `start:worker` exec), each its own process, and an HTTP client that
 * spreads requests over every API process. Their RSS and CPU are read from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { procCpuMs, procRssBytes } from './proc';

export type Role = 'api' | 'worker';

export interface ServiceProcessOptions {
  role: Role;
  /** The environment of src/config.ts (TEMPORAL_ADDRESS, DATA_DIR, DATABASE_URL, API_KEYS, …). */
  env: Record<string, string>;
  /** Where its stdout and stderr go. */
  logFile: string;
  /** Write V8 CPU profiles of every thread here when it exits; null: none. */
  profileDir: string | null;
}

export class ServiceProcess {
  private readonly exited: Promise<void>;

  private constructor(
    readonly role: Role,
    private readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  get pid(): number | null {
    return this.child.pid ?? null;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Spawns it; `ready` resolves once it is serving (the API's /healthz, the worker's log line). */
  static spawn(opts: ServiceProcessOptions): ServiceProcess {
    const out = openSync(opts.logFile, 'a');
    const repoRoot = join(__dirname, '..');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        ...(opts.profileDir ? ['--cpu-prof', '--cpu-prof-dir', opts.profileDir] : []),
        join(repoRoot, 'src', 'main.ts'),
        opts.role === 'api' ? '--api-only' : '--worker-only',
      ],
      {
        cwd: repoRoot,
        env: { ...process.env, LOG_LEVEL: process.env.HOOKLINE_BENCH_LOG_LEVEL ?? 'info', ...opts.env },
        stdio: ['ignore', out, out],
      },
    );
    closeSync(out);
    return new ServiceProcess(opts.role, child, opts.logFile);
  }

  /** Waits until `probe()` holds, failing when the process exits first or after `timeoutMs`. */
  async until(probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running) throw new Error(`the ${this.role} process exited: ${this.tail()}`);
      if (await probe().catch(() => false)) return;
      if (Date.now() > deadline) {
        throw new Error(`the ${this.role} process was not ready within ${timeoutMs} ms: ${this.tail()}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Whether its log has a line with this message (pino JSON: `"msg":"<message>"`). */
  logged(message: string): boolean {
    try {
      return readFileSync(this.logFile, 'utf8').includes(`"msg":"${message}"`);
    } catch {
      return false;
    }
  }

  tail(lines = 15): string {
    try {
      return `its log ends:\n${readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n')}`;
    } catch {
      return 'no log';
    }
  }

  rssMb(): number | null {
    const rss = this.pid === null ? null : procRssBytes(this.pid);
    return rss === null ? null : Math.round((rss / 1024 / 1024) * 10) / 10;
  }

  cpuMs(): number | null {
    return this.pid === null ? null : procCpuMs(this.pid);
  }

  /** SIGTERM (src/main.ts drains and exits; a CPU profile is written then); SIGKILL after 30 s. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** An HTTP answer of the API: status, Retry-After (s) and the parsed JSON body. */
export interface ApiAnswer {
  status: number;
  retryAfterSec: number | null;
  body: any;
}

/** The REST API over one or more API processes: each call goes to the next one (round robin). */
export class Api {
  /** Keep-alive pool: every producer lane and registration shares it. */
  readonly agent = new Agent({ connections: 256, keepAliveTimeout: 30_000, pipelining: 1 });
  private next = 0;

  constructor(
    readonly urls: string[],
    private readonly keyOf: (tenant: string) => string,
  ) {}

  /** One call with the tenant's key. Never throws on an HTTP status; the caller decides. */
  async call(
    tenant: string,
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    body?: unknown,
  ): Promise<ApiAnswer> {
    const url = this.urls[this.next++ % this.urls.length]!;
    const res = await request(`${url}${path}`, {
      method,
      dispatcher: this.agent,
      headers: {
        authorization: `Bearer ${this.keyOf(tenant)}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.body.text();
    const retryAfter = Number(res.headers['retry-after']);
    return {
      status: res.statusCode,
      retryAfterSec: Number.isFinite(retryAfter) ? retryAfter : null,
      body: text ? (JSON.parse(text) as unknown) : null,
    };
  }

  /** Whether `url` answers GET <path> with 200. */
  async ok(url: string, path: string): Promise<boolean> {
    const res = await request(`${url}${path}`, { dispatcher: this.agent });
    await res.body.dump();
    return res.statusCode === 200;
  }

  close(): Promise<void> {
    return this.agent.close().catch(() => undefined);
  }
}
