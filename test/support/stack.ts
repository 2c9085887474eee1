/**
 * The local production-shaped stack (scripts/stack.sh: the real Temporal server on PostgreSQL, and
 * Hookline's API and worker processes) as the tests see it: its env file, a fresh database on its
 * PostgreSQL, Hookline processes of a test's own, and `stack.sh` itself. Used by `npm run
 * test:stack` (jest.stack.config.js), whose global setup brings the stack up.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { postgresBinDir } from './postgres';

export const ROOT = join(__dirname, '..', '..');
const STACK_SH = join(ROOT, 'scripts', 'stack.sh');

/** True when the tests run against the stack (HOOKLINE_TEST_TARGET=stack, set by test:stack). */
export function targetsStack(): boolean {
  return process.env.HOOKLINE_TEST_TARGET === 'stack';
}

/** The env file `stack.sh up` writes (HOOKLINE_STACK_ENV_FILE, default .stack/env of this clone). */
export function stackEnvFile(): string {
  return process.env.HOOKLINE_STACK_ENV_FILE ?? join(ROOT, '.stack', 'env');
}

/** `.stack/env` as KEY → value (its values are plain or in single quotes, never escaped). */
export function readStackEnv(): Record<string, string> {
  const file = stackEnvFile();
  if (!existsSync(file)) throw new Error(`${file} does not exist: run \`npm run stack:up\` first`);
  const env: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    const raw = m[2]!;
    env[m[1]!] = /^'.*'$/.test(raw) ? raw.slice(1, -1) : raw;
  }
  return env;
}

/** The settings the suite's stack runs Hookline with: loopback receivers, a quick reconciler. */
export const STACK_TEST_SETTINGS = {
  STACK_APIS: '2',
  STACK_WORKERS: '2',
  STACK_HOOKLINE_ENV: 'ALLOWED_TARGET_NETWORKS=127.0.0.0/8 RECONCILE_INTERVAL_MS=2000',
};

/**
 * Runs `bash scripts/stack.sh ARGS` and resolves with its exit code; rejects on a non-zero one unless
 * `allowFail`. Asynchronous, so a test's receivers and producers go on while it runs (a restart under
 * load). Its log goes to this process's stderr (`quiet`: kept, shown only on failure).
 */
export async function runStack(
  args: string[],
  opts: { env?: Record<string, string>; allowFail?: boolean; quiet?: boolean } = {},
): Promise<number> {
  const child = spawn('bash', [STACK_SH, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...opts.env },
    stdio: opts.quiet ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'inherit', 'inherit'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? 1)));
  if (code !== 0 && !opts.allowFail) {
    throw new Error(
      `scripts/stack.sh ${args.join(' ')} exited with ${code}${opts.quiet ? `\n${output}` : ''}`,
    );
  }
  return code;
}

/** `stack.sh up` with the suite's settings: starts what is missing, leaves the rest (idempotent). */
export async function stackUp(opts: { quiet?: boolean } = {}): Promise<void> {
  await runStack(['up'], { env: STACK_TEST_SETTINGS, quiet: opts.quiet });
}

/** psql as the postgres superuser over the stack's unix socket (peer authentication, as root). */
function stackPsql(sql: string): void {
  const env = readStackEnv();
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL binaries not found under /usr/lib/postgresql');
  const socket = join(env.STACK_STATE_DIR!, 'pg', 'socket');
  const res = spawnSync(
    'runuser',
    ['-u', 'postgres', '--', join(bin, 'psql'), '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', socket],
    {
      cwd: '/',
      input: sql,
      encoding: 'utf8',
      env: { ...process.env, PGPORT: env.STACK_PG_PORT!, PGDATABASE: 'postgres' },
    },
  );
  if (res.status !== 0) throw new Error(`psql on the stack failed: ${res.stderr || res.stdout}`);
}

/**
 * A fresh database on the stack's PostgreSQL, owned by the role Hookline's processes use (so they
 * migrate it as they would `hookline`); `drop()` removes it, connections and all.
 */
export function createStackDatabase(): { url: string; name: string; drop(): void } {
  const env = readStackEnv();
  const name = `t_${randomBytes(6).toString('hex')}`;
  stackPsql(`CREATE DATABASE ${name} OWNER hookline;\nREVOKE ALL ON DATABASE ${name} FROM PUBLIC;\n`);
  const url = new URL(env.DATABASE_URL!);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () => stackPsql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE);\n`),
  };
}

/** Pid of a process the stack's hook runs (`hookline-worker-1`, ...), from its pid file; null if none. */
export function stackPid(name: string): number | null {
  const file = join(readStackEnv().STACK_STATE_DIR!, 'run', `${name}.pid`);
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, 'utf8').split(' ')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return null;
  }
}

export interface HooklineProcess {
  name: string;
  child: ChildProcess;
  /** The end of its output (stdout and stderr), for failure messages. */
  tail(): string;
  /** Resolves with the exit code, or the signal's name. */
  exited: Promise<number | string | null>;
  /** SIGTERM, then SIGKILL of its process group after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * `node --import tsx src/main.ts ARGS` (what `npm run start:api` / `start:worker` exec) in a process
 * group of its own, with exactly `env` on top of this process's environment. Output goes to `log`
 * (a file) and the last 20 KB are kept.
 */
export function spawnHookline(
  name: string,
  args: string[],
  env: Record<string, string>,
  log: string,
  onLine?: (line: string) => void,
): HooklineProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'main.ts'), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const file: WriteStream = createWriteStream(log, { flags: 'a', mode: 0o600 });
  let tail = '';
  const partial = { stdout: '', stderr: '' };
  const keep = (stream: 'stdout' | 'stderr') => (d: Buffer) => {
    file.write(d);
    tail = (tail + d.toString()).slice(-20_000);
    if (!onLine) return;
    const lines = (partial[stream] + d.toString()).split('\n');
    partial[stream] = lines.pop()!;
    for (const line of lines) if (line) onLine(line);
  };
  child.stdout.on('data', keep('stdout'));
  child.stderr.on('data', keep('stderr'));
  const exited = new Promise<number | string | null>((resolve) =>
    child.once('exit', (code, signal) => {
      file.end();
      resolve(code ?? signal);
    }),
  );
  return {
    name,
    child,
    tail: () => tail,
    exited,
    async stop(graceMs = 30_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }, graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Polls `url` until `accept(status)` holds; fails after `timeoutMs`, or at once when `proc` exits
 * (with the end of its output).
 */
export async function waitForAnswer(
  url: string,
  accept: (status: number) => boolean,
  timeoutMs: number,
  proc: HooklineProcess,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      throw new Error(
        `${proc.name} exited (${proc.child.exitCode ?? proc.child.signalCode}):\n${proc.tail()}`,
      );
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      await res.arrayBuffer();
      last = String(res.status);
      if (accept(res.status)) return;
    } catch (err) {
      last = String(err);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${proc.name}: ${url} not ready within ${timeoutMs} ms (last: ${last})\n${proc.tail()}`);
}
