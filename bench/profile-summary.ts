/**
 * Summarises V8 CPU profiles (`.cpuprofile`, as `node --cpu-prof` writes them) by self time, per
 * function, optionally only over a window of the monotonic clock (µs, the profiles' own time base), so
 * that one benchmark case can be read out of a whole run's profile.
 *
 *   npx tsx bench/profile-summary.ts <profile dir> [--results <results.json> --case <substring>]
 *                                    [--from <µs> --to <µs>] [--top <n>]
 *
 * With --results and --case, the window is that case's measured part (its `window` in the JSON) and
 * profiles are named by the process they came from (the JSON's `pids`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  /** ms of samples whose top frame is this function. */
  selfMs: number;
  /** Share of the window's non-idle samples, %. */
  percent: number;
}

export interface ProfileSummary {
  file: string;
  /** ms of samples in the window, and how many of them were idle (the thread waited). */
  totalMs: number;
  idleMs: number;
  top: SelfTime[];
}

/** Where a frame comes from, short: `src/publish/publisher.ts:120` or `node_modules/undici/…:42`. */
function where(frame: ProfileNode['callFrame']): string {
  if (!frame.url) return '';
  let url = frame.url.replace(/^file:\/\//, '');
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) url = url.slice(nm);
  else {
    const src = url.search(/\/(src|bench|test)\//);
    if (src >= 0) url = url.slice(src + 1);
  }
  return `${url}:${frame.lineNumber + 1}`;
}

/** Self time per function in [fromUs, toUs) (the whole profile without them). */
export function summarize(
  file: string,
  opts: { fromUs?: number; toUs?: number; top?: number } = {},
): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let t = profile.startTime;
  let totalUs = 0;
  let idleUs = 0;
  const from = opts.fromUs ?? -Infinity;
  const to = opts.toUs ?? Infinity;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    // A sample stands for the time until the next one.
    const dt = profile.timeDeltas[i + 1] ?? 0;
    if (t < from || t >= to || dt <= 0) continue;
    const node = byId.get(profile.samples[i]!);
    if (!node) continue;
    const frame = node.callFrame;
    const name = frame.functionName || '(anonymous)';
    totalUs += dt;
    if (name === '(idle)') {
      idleUs += dt;
      continue;
    }
    const key = `${name} ${where(frame)}`.trim();
    self.set(key, (self.get(key) ?? 0) + dt);
  }
  const busyUs = totalUs - idleUs;
  const top = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, opts.top ?? 5)
    .map(([name, us]) => ({
      name,
      selfMs: Math.round(us / 100) / 10,
      percent: busyUs > 0 ? Math.round((us / busyUs) * 1000) / 10 : 0,
    }));
  return { file, totalMs: Math.round(totalUs / 1000), idleMs: Math.round(idleUs / 1000), top };
}

/** `CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile` → pid and thread id. */
export function profileProcess(file: string): { pid: number; thread: number } | null {
  const m = /^CPU\.\d+\.\d+\.(\d+)\.(\d+)\.\d+\.cpuprofile$/.exec(basename(file));
  return m ? { pid: Number(m[1]), thread: Number(m[2]) } : null;
}

/** The summaries of every profile in `dir`, named by process (`pids`: name → pid) and thread. */
export function summarizeDir(
  dir: string,
  opts: { fromUs?: number; toUs?: number; top?: number; pids?: Record<string, number | null> },
): string {
  const names = new Map(Object.entries(opts.pids ?? {}).map(([name, pid]) => [pid, name]));
  const lines: string[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort()) {
    const proc = profileProcess(file);
    const who = proc
      ? `${names.get(proc.pid) ?? `pid ${proc.pid}`}, ${proc.thread === 0 ? 'main thread' : `thread ${proc.thread}`}`
      : file;
    const s = summarize(join(dir, file), opts);
    if (s.totalMs === 0) continue;
    const busy = s.totalMs - s.idleMs;
    lines.push(`${who}: ${busy} ms busy of ${s.totalMs} ms sampled (${file})`);
    for (const f of s.top)
      lines.push(`  ${String(f.selfMs).padStart(8)} ms ${String(f.percent).padStart(5)}%  ${f.name}`);
  }
  return lines.join('\n');
}

function main(argv: string[]): void {
  const dir = argv[0];
  if (!dir || dir.startsWith('--')) {
    throw new Error(
      'usage: tsx bench/profile-summary.ts <profile dir> [--results <json> --case <substring>] [--from <µs> --to <µs>] [--top <n>]',
    );
  }
  const arg = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  let fromUs = arg('--from') ? Number(arg('--from')) : undefined;
  let toUs = arg('--to') ? Number(arg('--to')) : undefined;
  let pids: Record<string, number | null> | undefined;
  const resultsFile = arg('--results');
  if (resultsFile) {
    const report = JSON.parse(readFileSync(resultsFile, 'utf8')) as {
      pids?: Record<string, number | null>;
      results: { scenario: string; case: string; window?: { fromUs: number; toUs: number } }[];
    };
    pids = report.pids;
    const wanted = arg('--case');
    if (wanted) {
      const row = report.results.find((r) => `${r.scenario} ${r.case}`.includes(wanted));
      if (!row?.window) throw new Error(`no case with a window matches "${wanted}"`);
      process.stdout.write(`window: ${row.scenario} ${row.case}\n`);
      ({ fromUs, toUs } = row.window);
    }
  }
  const top = arg('--top') ? Number(arg('--top')) : 5;
  process.stdout.write(`${summarizeDir(dir, { fromUs, toUs, top, pids })}\n`);
}

if (require.main === module) main(process.argv.slice(2));
