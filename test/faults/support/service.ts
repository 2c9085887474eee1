import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { api } from '../../support/service-process';

const root = join(__dirname, '..', '..', '..');

export interface ServiceProcess {
  child: ChildProcess;
  pid: number;
  output: () => string;
  /** Resolves with the exit code, or the signal's name when killed by one. */
  exited: Promise<number | string | null>;
}

/**
 * Runs `src/main.ts` as `npm start` does (`node --import tsx`), in a process group of its own (so a
 * test can SIGKILL the whole group: the service and its embedded dev server). Logs at warn unless
 * the environment says otherwise; output is kept for failure messages.
 */
export function spawnFaultService(env: Record<string, string>, args: string[] = []): ServiceProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src', 'main.ts'), ...args], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  // Bounded: a long run must not fill the test's memory with logs.
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<number | string | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal)),
  );
  return { child, pid: child.pid!, output: () => out, exited };
}

/** SIGKILLs the process group led by `pid` (the service and every child it started). */
export function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

export { alive, api, devServerPid, waitForStatus } from '../../support/service-process';

/** Resident set size of a process in MB (from /proc), or null when it is gone. */
export function rssMb(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
    return kb ? Number(kb) / 1024 : null;
  } catch {
    return null;
  }
}

/** Registers a raw-format subscription for every event type; returns its id. */
export async function subscribe(
  baseUrl: string,
  key: string,
  url: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const res = await api(baseUrl, key, 'POST', '/v1/subscriptions', { url, eventTypes: ['*'], ...extra });
  if (res.status !== 201) throw new Error(`subscribe ${url}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}

/** `subscriptionId/eventId` keys of every dead letter of these subscriptions. */
export async function deadLetterKeys(
  baseUrl: string,
  key: string,
  subscriptionIds: string[],
): Promise<Set<string>> {
  const keys = new Set<string>();
  for (const id of subscriptionIds) {
    const res = await api(baseUrl, key, 'GET', `/v1/subscriptions/${id}/dead-letters`);
    if (res.status !== 200) throw new Error(`dead letters of ${id}: ${res.status}`);
    for (const d of res.body.data as { event: { id: string } }[]) keys.add(`${id}/${d.event.id}`);
  }
  return keys;
}

/** Every JSON log line in `output` whose `msg` is `msg`, parsed, in order. */
export function logLines(output: string, msg: string): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith('{') || !line.includes(msg)) continue;
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (entry.msg === msg) lines.push(entry);
    } catch {
      // a line cut by the output's bound
    }
  }
  return lines;
}

/** ms since the epoch of every JSON log line in `output` whose `msg` is `msg`, in order. */
export function logTimes(output: string, msg: string): number[] {
  return logLines(output, msg)
    .filter((l) => typeof l.time === 'string' || typeof l.time === 'number')
    .map((l) => new Date(l.time as string | number).getTime());
}
