/**
 * The service's REST API as its own process, exactly as deployed: `node --import tsx src/main.ts
 * --api-only` against the bench's Temporal server and task queue, one API key per bench tenant.
 * Its RSS and CPU are read from /proc (Linux; absent elsewhere), sampled while a case runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { procCpuMs, procRssBytes } from './proc';

export interface ApiProcessOptions {
  address: string;
  namespace: string;
  taskQueue: string;
  port: number;
  /** Tenants to serve; each gets the key `apiKeyOf(tenant)`. */
  tenants: string[];
  /** Where its stdout and stderr go. */
  logFile: string;
  /** Its DATA_DIR (nothing is written there when API_KEYS is set). */
  dataDir: string;
  /** Write a V8 CPU profile of each thread here when it exits; null: no profile. */
  profileDir: string | null;
  /** Extra environment (backlog caps, for instance). */
  env?: Record<string, string>;
}

/** The bench's API key of a tenant (>= 16 characters, as API_KEYS requires). */
export function apiKeyOf(tenant: string): string {
  return `bench-key-${tenant}-0123456789abcdef`;
}

const MiB = 1024 * 1024;

/** An HTTP answer of the API: status, Retry-After (s) and the parsed JSON body. */
export interface ApiAnswer {
  status: number;
  retryAfterSec: number | null;
  body: any;
}

export class ApiProcess {
  readonly url: string;
  /** Keep-alive pool to the API: every producer lane and registration shares it. */
  readonly agent = new Agent({ connections: 256, keepAliveTimeout: 30_000, pipelining: 1 });
  private exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    port: number,
    readonly logFile: string,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  get pid(): number | null {
    return this.child.pid ?? null;
  }

  static async start(opts: ApiProcessOptions): Promise<ApiProcess> {
    const out = openSync(opts.logFile, 'a');
    const repoRoot = join(__dirname, '..');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        ...(opts.profileDir ? ['--cpu-prof', '--cpu-prof-dir', opts.profileDir] : []),
        join(repoRoot, 'src', 'main.ts'),
        '--api-only',
      ],
      {
        cwd: repoRoot,
        env: {
          ...process.env,
          PORT: String(opts.port),
          DATA_DIR: opts.dataDir,
          TEMPORAL_ADDRESS: opts.address,
          TEMPORAL_NAMESPACE: opts.namespace,
          TEMPORAL_TASK_QUEUE: opts.taskQueue,
          API_KEYS: opts.tenants.map((t) => `${t}:${apiKeyOf(t)}`).join(','),
          ALLOWED_TARGET_NETWORKS: '127.0.0.0/8',
          LOG_LEVEL: process.env.HOOKLINE_BENCH_LOG_LEVEL ?? 'warn',
          ...opts.env,
        },
        stdio: ['ignore', out, out],
      },
    );
    closeSync(out);
    const api = new ApiProcess(child, opts.port, opts.logFile);
    try {
      await api.untilHealthy(180_000);
    } catch (err) {
      await api.stop();
      const tail = readFileSync(opts.logFile, 'utf8').split('\n').slice(-20).join('\n');
      throw new Error(`${err instanceof Error ? err.message : String(err)}; its log ends:\n${tail}`);
    }
    return api;
  }

  /** Polls GET /healthz until 200 (start-up compiles the sources with tsx: seconds on a busy machine). */
  private async untilHealthy(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const exited: { code: number | null } = { code: null };
    this.child.once('exit', (code) => (exited.code = code ?? -1));
    for (;;) {
      if (exited.code !== null) throw new Error(`the API process exited with code ${exited.code}`);
      try {
        const res = await request(`${this.url}/healthz`, { dispatcher: this.agent });
        await res.body.dump();
        if (res.statusCode === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`the API did not answer /healthz within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** One call with the tenant's key. Never throws on an HTTP status; the caller decides. */
  async call(tenant: string, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown) {
    const res = await request(`${this.url}${path}`, {
      method,
      dispatcher: this.agent,
      headers: {
        authorization: `Bearer ${apiKeyOf(tenant)}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.body.text();
    const retryAfter = Number(res.headers['retry-after']);
    const answer: ApiAnswer = {
      status: res.statusCode,
      retryAfterSec: Number.isFinite(retryAfter) ? retryAfter : null,
      body: text ? (JSON.parse(text) as unknown) : null,
    };
    return answer;
  }

  /** RSS now, MiB (null without /proc). */
  rssMb(): number | null {
    const pid = this.child.pid;
    const rss = pid === undefined ? null : procRssBytes(pid);
    return rss === null ? null : Math.round((rss / MiB) * 10) / 10;
  }

  /** CPU time (user + system, every thread) so far, ms (null without /proc). */
  cpuMs(): number | null {
    return this.child.pid === undefined ? null : procCpuMs(this.child.pid);
  }

  /**
   * SIGTERM (src/main.ts then closes the server and the connection and exits 0, which is when a CPU
   * profile is written); SIGKILL after 20 s.
   */
  async stop(): Promise<void> {
    await this.agent.close().catch(() => undefined);
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 20_000);
    await this.exited;
    clearTimeout(timer);
  }
}
