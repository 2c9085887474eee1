/**
 * Resource use of other processes, read from Linux's /proc (null elsewhere or when a process is gone):
 * CPU time from /proc/<pid>/stat, memory from /proc/<pid>/status and smaps_rollup.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let clockTicks: number | null = null;

function ticksPerSecond(): number {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return clockTicks;
}

/** Fields after "pid (comm) " of /proc/<pid>/stat: state is [0], ppid [1], utime [11] … cstime [14]. */
function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/**
 * CPU time (user + system, every thread) of a process so far, ms. `reaped`: also the CPU time of its
 * children that exited and were waited for (cutime, cstime), e.g. PostgreSQL's ended backends.
 */
export function procCpuMs(pid: number, reaped = false): number | null {
  const f = statFields(pid);
  if (!f) return null;
  const ticks = Number(f[11]) + Number(f[12]) + (reaped ? Number(f[13]) + Number(f[14]) : 0);
  return (ticks / ticksPerSecond()) * 1000;
}

/** Resident set size of a process now, bytes (VmRSS). */
export function procRssBytes(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/**
 * Proportional set size, bytes: RSS with each shared page divided among the processes sharing it. The
 * right sum over PostgreSQL's processes, which all map the same shared buffers.
 */
export function procPssBytes(pid: number): number | null {
  try {
    const match = /^Pss:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** The live children of a process (by ppid). */
export function procChildren(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(Number(name));
    if (f && Number(f[1]) === pid) out.push(Number(name));
  }
  return out;
}

/** TCP ports a process listens on (from `ss`; empty when it is not installed). */
export function listeningPorts(pid: number): number[] {
  try {
    const out = execFileSync('ss', ['-ltnpH'], { encoding: 'utf8' });
    const ports = new Set<number>();
    for (const line of out.split('\n')) {
      if (!line.includes(`pid=${pid},`)) continue;
      const local = line.trim().split(/\s+/)[3] ?? '';
      const port = Number(local.slice(local.lastIndexOf(':') + 1));
      if (Number.isInteger(port) && port > 0) ports.add(port);
    }
    return [...ports];
  } catch {
    return [];
  }
}
