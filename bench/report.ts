/** The printed table, the ratios against the ceilings, and the facts about the machine. */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import type { CaseResult } from './support';

interface Column {
  title: string;
  value: (r: CaseResult) => string | number | undefined | null;
  /** Text columns are left-aligned, numbers right-aligned. */
  text?: boolean;
}

const COLUMNS: Column[] = [
  { title: 'scenario', value: (r) => r.scenario, text: true },
  { title: 'case', value: (r) => r.case, text: true },
  { title: 'events', value: (r) => r.events },
  { title: 'events/s', value: (r) => r.eventsPerSec },
  { title: 'req/s', value: (r) => r.opsPerSec },
  { title: 'POSTs', value: (r) => r.posts },
  { title: 'fill', value: (r) => r.meanBatchFill },
  { title: 'p50 ms', value: (r) => r.latency?.p50Ms },
  { title: 'p95 ms', value: (r) => r.latency?.p95Ms },
  { title: 'p99 ms', value: (r) => r.latency?.p99Ms },
  { title: 'wall s', value: (r) => r.wallSec },
  { title: 'refused', value: (r) => r.refusals },
  { title: 'wkr RSS MB', value: (r) => r.worker?.rssMaxMb },
  { title: 'wkr CPU %', value: (r) => r.worker?.cpuPercent },
  { title: 'srv CPU %', value: (r) => r.serverCpuPercent },
  { title: 'bench CPU %', value: (r) => r.benchCpuPercent },
];

export function formatTable(results: CaseResult[]): string {
  const cells = results.map((r) =>
    COLUMNS.map((c) => {
      const v = c.value(r);
      return v === undefined || v === null ? '-' : String(v);
    }),
  );
  const widths = COLUMNS.map((c, i) => Math.max(c.title.length, ...cells.map((row) => row[i]!.length)));
  const line = (row: string[]) =>
    row.map((cell, i) => (COLUMNS[i]!.text ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  return [
    line(COLUMNS.map((c) => c.title)),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...cells.map(line),
  ].join('\n');
}

export interface Ratio {
  numerator: string;
  denominator: string;
  ratio: number;
}

/** Delivered events/s of each subscriber case ÷ the undici loop at batch 100 on the same endpoint. */
export function ratios(results: CaseResult[]): Ratio[] {
  const out: Ratio[] = [];
  const undici = results.filter((r) => r.scenario === 'undici-ceiling' && r.params.batch === 100);
  for (const r of results) {
    if (r.scenario !== 'subscriber-throughput' && r.scenario !== 'subscriber-fanout') continue;
    for (const concurrency of [1, 8]) {
      const ceiling = undici.find(
        (u) =>
          u.params.concurrency === concurrency && u.params.endpointLatencyMs === r.params.endpointLatencyMs,
      );
      if (!ceiling?.eventsPerSec || r.eventsPerSec === undefined) continue;
      out.push({
        numerator: `${r.scenario} (${r.case}): ${r.eventsPerSec} events/s`,
        denominator: `undici ${ceiling.case}: ${ceiling.eventsPerSec} events/s`,
        ratio: Math.round((r.eventsPerSec / ceiling.eventsPerSec) * 1000) / 1000,
      });
    }
  }
  return out;
}

export function formatRatios(list: Ratio[]): string {
  return list.map((r) => `${r.ratio.toFixed(3)}  = ${r.numerator}  ÷  ${r.denominator}`).join('\n');
}

export function machineFacts() {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpuCount: cpus.length,
    totalMemoryMb: Math.round(os.totalmem() / 1024 / 1024),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
  };
}

/** The commit measured, and whether the checkout had changes. */
export function gitFacts(): { commit: string | null; dirty: boolean | null } {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { encoding: 'utf8' }).trim() !== '';
    return { commit, dirty };
  } catch {
    return { commit: null, dirty: null };
  }
}
