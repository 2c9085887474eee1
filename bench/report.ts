/** The printed table, the ratios against the ceilings, the targets, and the facts about the machine. */
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
  { title: 'deliv/s', value: (r) => r.eventsPerSec },
  { title: 'pub/s', value: (r) => r.publishedPerSec },
  { title: 'req/s', value: (r) => r.opsPerSec },
  { title: 'fill', value: (r) => r.meanBatchFill },
  { title: 'p50 ms', value: (r) => r.latency?.p50Ms },
  { title: 'p95 ms', value: (r) => r.latency?.p95Ms },
  { title: 'p99 ms', value: (r) => r.latency?.p99Ms },
  { title: 'wall s', value: (r) => r.wallSec },
  { title: '503s', value: (r) => r.refusals },
  { title: 'wkr RSS', value: (r) => r.worker?.rssMaxMb },
  { title: 'wkr CPU%', value: (r) => r.worker?.cpuPercent },
  { title: 'api RSS', value: (r) => r.api?.rssMaxMb },
  { title: 'api CPU%', value: (r) => r.api?.cpuPercent },
  { title: 'srv CPU%', value: (r) => r.serverCpuPercent },
  { title: 'bench CPU%', value: (r) => r.benchCpuPercent },
];

/** Plain text table: one row per case, `-` where a figure does not apply. */
export function formatTable(results: CaseResult[]): string {
  return textTable(
    COLUMNS.map((c) => c.title),
    results.map((r) =>
      COLUMNS.map((c) => {
        const v = c.value(r);
        return v === undefined || v === null ? '-' : String(v);
      }),
    ),
    COLUMNS.map((c) => c.text ?? false),
  );
}

function textTable(titles: string[], rows: string[][], text: boolean[]): string {
  const widths = titles.map((t, i) => Math.max(t.length, ...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) =>
    row
      .map((cell, i) => (text[i] ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(titles), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export interface Ratio {
  numerator: string;
  denominator: string;
  ratio: number;
}

const ratio3 = (a: number, b: number) => Math.round((a / b) * 1000) / 1000;

function undiciRow(results: CaseResult[], batch: number, concurrency: number): CaseResult | undefined {
  return results.find(
    (r) =>
      r.scenario === 'undici-ceiling' &&
      r.params.batch === batch &&
      r.params.concurrency === concurrency &&
      r.params.endpointLatencyMs === 0,
  );
}

function signalRow(results: CaseResult[], workflows: number): CaseResult | undefined {
  return results.find((r) => r.scenario === 'signal-ceiling' && r.params.workflows === workflows);
}

/**
 * The figures held against the ceilings of the same run:
 * - delivered events/s of each saturated end-to-end case (and of the workflow-only layer) ÷ the bare
 *   undici loop with the same number of POSTs outstanding (one per subscription), at batch 100 and at
 *   batch 1 (the delivered batches' size lies between; `fill` says where);
 * - the API's accepted requests/s ÷ the raw signal rate (one publish request costs at least one
 *   message to a workflow): to 1 workflow for 1 subscription, to 100 workflows for 10 and 100.
 */
export function ratios(results: CaseResult[]): Ratio[] {
  const out: Ratio[] = [];
  for (const r of results) {
    const saturated = r.scenario === 'e2e' && r.params.phase === 'saturated';
    if (!saturated && r.scenario !== 'workflow-only') continue;
    const subs = Number(r.params.subscriptions);
    const name = `${r.scenario} ${r.case}`;
    for (const batch of [100, 1]) {
      const ceiling = undiciRow(results, batch, subs);
      if (!ceiling?.eventsPerSec || r.eventsPerSec === undefined) continue;
      out.push({
        numerator: `${name}: ${r.eventsPerSec} delivered/s (fill ${r.meanBatchFill ?? '-'})`,
        denominator: `undici ${ceiling.case}: ${ceiling.eventsPerSec} events/s`,
        ratio: ratio3(r.eventsPerSec, ceiling.eventsPerSec),
      });
    }
    if (!saturated) continue;
    const signals = signalRow(results, subs === 1 ? 1 : 100);
    if (signals?.opsPerSec && r.opsPerSec !== undefined) {
      out.push({
        numerator: `${name}: ${r.opsPerSec} publish requests/s`,
        denominator: `signals ${signals.case}: ${signals.opsPerSec}/s`,
        ratio: ratio3(r.opsPerSec, signals.opsPerSec),
      });
    }
  }
  return out;
}

export function formatRatios(list: Ratio[]): string {
  return list.map((r) => `${r.ratio.toFixed(3)}  = ${r.numerator}  ÷  ${r.denominator}`).join('\n');
}

export interface Target {
  target: string;
  measured: string;
  /** null: not measured in this run (scenario not run, or a smaller --quick variant). */
  pass: boolean | null;
}

/** Issue #7's targets ("to be raised once measured"), held against this run's figures. */
export function targets(results: CaseResult[]): Target[] {
  const out: Target[] = [];
  const e2e = (subs: number, per: number, phase: string) =>
    results.find(
      (r) =>
        r.scenario === 'e2e' &&
        r.params.subscriptions === subs &&
        r.params.perRequest === per &&
        r.params.phase === phase,
    );
  for (const per of [100, 1]) {
    const sat = e2e(10, per, 'saturated');
    const half = e2e(10, per, 'paced');
    if (sat?.eventsPerSec !== undefined) {
      out.push({
        target: `10 subs, ${per}/req: >= 2,000 delivered events/s end to end`,
        measured: `${sat.eventsPerSec}/s`,
        pass: sat.eventsPerSec >= 2_000,
      });
      const ceiling = undiciRow(results, 100, 10);
      if (ceiling?.eventsPerSec) {
        const share = sat.eventsPerSec / ceiling.eventsPerSec;
        out.push({
          target: `10 subs, ${per}/req: >= 50% of bare undici at batch 100 (c=10)`,
          measured: `${(share * 100).toFixed(1)}% of ${ceiling.eventsPerSec}/s`,
          pass: share >= 0.5,
        });
      }
    }
    if (half?.latency) {
      out.push({
        target: `10 subs, ${per}/req: p99 publish→receipt <= 1 s at half of peak`,
        measured: `${half.latency.p99Ms} ms at ${half.params.eventsPerSec} events/s`,
        pass: half.latency.p99Ms <= 1_000,
      });
    }
  }
  const fan = results.find((r) => r.scenario === 'fanout' && r.case.startsWith('1 event'));
  if (fan?.wallSec !== undefined) {
    out.push({
      target: `fan-out of 1 event to ${fan.params.subscriptions} subs <= 5 s`,
      measured: `${fan.wallSec} s (slowest of ${fan.params.rounds})`,
      pass: fan.params.subscriptions === 1_000 ? fan.wallSec <= 5 : null,
    });
  }
  const idle = results.find((r) => r.scenario === 'idle');
  if (idle?.worker) {
    const full = idle.params.subscriptions === 10_000;
    out.push({
      target: `10,000 idle subs <= 512 MB worker RSS`,
      measured: `${idle.worker.rssMaxMb} MB with ${idle.params.subscriptions} subs`,
      pass: full ? idle.worker.rssMaxMb <= 512 : null,
    });
  }
  return out;
}

export function formatTargets(list: Target[]): string {
  return textTable(
    ['', 'target', 'measured'],
    list.map((t) => [t.pass === null ? 'n/a' : t.pass ? 'pass' : 'MISS', t.target, t.measured]),
    [true, true, true],
  );
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
