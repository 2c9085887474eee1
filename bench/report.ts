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

const cpu = (name: string) => (r: CaseResult) => r.resources?.procs[name]?.cpuPercent;

const COLUMNS: Column[] = [
  { title: 'env', value: (r) => r.env, text: true },
  { title: 'scenario', value: (r) => r.scenario, text: true },
  { title: 'case', value: (r) => r.case, text: true },
  { title: 'events', value: (r) => r.events },
  { title: 'deliv/s', value: (r) => r.eventsPerSec },
  { title: 'pub/s', value: (r) => r.publishedPerSec },
  { title: 'req/s', value: (r) => r.opsPerSec },
  { title: 'fill', value: (r) => r.meanBatchFill },
  { title: 'p50 ms', value: (r) => r.latency?.p50Ms },
  { title: 'p99 ms', value: (r) => r.latency?.p99Ms },
  { title: 'wall s', value: (r) => r.wallSec },
  { title: '503s', value: (r) => r.refusals },
  { title: 'ooo', value: (r) => r.outOfOrder },
  { title: 'calls/ev', value: (r) => r.temporal?.callsPerEvent },
  { title: 'hist/ev', value: (r) => r.temporal?.historyEventsPerEvent },
  { title: 'api%', value: cpu('api') },
  { title: 'wkr%', value: cpu('worker') },
  { title: 'tmprl%', value: cpu('temporal') },
  { title: 'pg%', value: cpu('postgres') },
  { title: 'bench%', value: cpu('bench') },
  { title: 'wkr MB', value: (r) => r.resources?.procs.worker?.memMaxMb },
  { title: 'load', value: (r) => r.load, text: true },
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
      r.scenario === 'undici-ceiling' && r.params.batch === batch && r.params.concurrency === concurrency,
  );
}

function signalRow(
  results: CaseResult[],
  env: string | undefined,
  workflows: number,
): CaseResult | undefined {
  return results.find(
    (r) => r.scenario === 'signal-ceiling' && r.env === env && r.params.workflows === workflows,
  );
}

/**
 * The figures held against the ceilings of the same run: delivered events/s of each saturated e2e
 * case ÷ the bare undici loop with one POST outstanding per subscription, at batch 100; publish
 * requests/s ÷ the raw signal rate of the same server to 100 workflows.
 */
export function ratios(results: CaseResult[]): Ratio[] {
  const out: Ratio[] = [];
  for (const r of results) {
    if (r.scenario !== 'e2e' || r.params.phase !== 'saturated') continue;
    const subs = Number(r.params.subscriptions);
    const name = `${r.env} e2e ${r.case}`;
    const ceiling = undiciRow(results, 100, subs) ?? undiciRow(results, 100, 10);
    if (ceiling?.eventsPerSec && r.eventsPerSec !== undefined) {
      out.push({
        numerator: `${name}: ${r.eventsPerSec} delivered/s (fill ${r.meanBatchFill ?? '-'})`,
        denominator: `undici ${ceiling.case}: ${ceiling.eventsPerSec} events/s`,
        ratio: ratio3(r.eventsPerSec, ceiling.eventsPerSec),
      });
    }
    const signals = signalRow(results, r.env, 100);
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
  env: string;
  target: string;
  measured: string;
  /** null: not measured at the target's size in this run (a smaller --quick variant). */
  pass: boolean | null;
}

/** Issue #14's targets ("Done when"), held against this run's figures, per environment. */
export function targets(results: CaseResult[]): Target[] {
  const out: Target[] = [];
  const envs = [...new Set(results.map((r) => r.env).filter((e): e is string => e !== undefined))];
  for (const env of envs) {
    const mine = results.filter((r) => r.env === env);
    const push = (target: string, measured: string, pass: boolean | null) =>
      out.push({ env, target, measured, pass });
    const e2e = (per: number, phase: string) =>
      mine.find(
        (r) =>
          r.scenario === 'e2e' &&
          r.params.subscriptions === 10 &&
          r.params.perRequest === per &&
          r.params.phase === phase,
      );
    const one = e2e(1, 'saturated');
    if (one?.eventsPerSec !== undefined && one.publishedPerSec !== undefined) {
      push(
        '1 event/request, 10 subs: >= 1,000 events/s accepted and delivered',
        `${one.publishedPerSec}/s accepted, ${one.eventsPerSec}/s delivered`,
        one.publishedPerSec >= 1_000 && one.eventsPerSec >= 1_000,
      );
    }
    const half = e2e(1, 'paced');
    if (half?.latency) {
      push(
        'p99 publish→receipt at half of peak, 10 subs: <= 150 ms',
        `${half.latency.p99Ms} ms at ${half.params.eventsPerSec} events/s (1/req)`,
        half.latency.p99Ms <= 150,
      );
    }
    const hundred = e2e(100, 'saturated');
    if (hundred?.eventsPerSec !== undefined) {
      push(
        '100 events/request, 10 subs: >= 5,000 delivered events/s',
        `${hundred.eventsPerSec}/s`,
        hundred.eventsPerSec >= 5_000,
      );
      const hist = hundred.temporal?.historyEventsPerEvent;
      if (hist !== null && hist !== undefined) {
        push('Temporal cost at 100/request: <= 0.1 history events per event', `${hist}`, hist <= 0.1);
      }
    }
    const fan = mine.find((r) => r.scenario === 'fanout');
    if (fan?.wallSec !== undefined) {
      const ack = Number(fan.extra?.ackMaxMs);
      push('fan-out 1 event → 1,000 subs: 202 in <= 100 ms', `${ack} ms`, ack <= 100);
      push('fan-out 1 event → 1,000 subs: every receipt in <= 5 s', `${fan.wallSec} s`, fan.wallSec <= 5);
    }
    const reg = mine.find((r) => r.scenario === 'register');
    if (reg?.opsPerSec !== undefined) {
      push('registering subscriptions: >= 200/s', `${reg.opsPerSec}/s`, reg.opsPerSec >= 200);
    }
    const outage = mine.find((r) => r.scenario === 'outage');
    if (outage) {
      const full = outage.params.outageSec === 600;
      const ledger = outage.extra?.ledger as { missing: number; outOfOrder: number; duplicates: number };
      push(
        `outage ${outage.params.outageSec} s at 200 events/s: 0 × 503, all delivered in order`,
        `${outage.refusals} × 503, ${ledger.missing} missing, ${ledger.outOfOrder} out of order, ${ledger.duplicates} duplicates`,
        outage.refusals === 0 && ledger.missing === 0 && ledger.outOfOrder === 0
          ? full
            ? true
            : null
          : false,
      );
      push(
        'outage: drain after recovery >= 2,000 events/s',
        `${outage.eventsPerSec ?? '-'} events/s (${Number(outage.extra?.backlogAtRecovery)} waiting)`,
        outage.eventsPerSec === undefined ? false : full ? outage.eventsPerSec >= 2_000 : null,
      );
      const rss = outage.resources?.procs.worker?.memMaxMb ?? null;
      push(
        'outage: worker RSS <= 500 MB',
        `${rss ?? '-'} MB`,
        rss === null ? null : rss > 500 ? false : full ? true : null,
      );
    }
    const idle = mine.find((r) => r.scenario === 'idle');
    if (idle) {
      const whole = Number(idle.extra?.wholeMb);
      const full = idle.params.subscriptions === 10_000;
      push(
        '10,000 idle subs: whole stack <= 800 MB RSS',
        `${whole} MB with ${idle.params.subscriptions} subs`,
        whole > 800 ? false : full ? true : null,
      );
    }
    const ooo = mine.filter((r) => r.outOfOrder !== undefined).reduce((n, r) => n + (r.outOfOrder ?? 0), 0);
    push('events out of order per subscription: 0', `${ooo} in all cases`, ooo === 0);
    const postsPer = mine
      .filter((r) => r.scenario === 'e2e' && r.params.phase === 'saturated' && r.posts && r.events)
      .map((r) => `${r.case.replace(', saturated', '')}: ${(r.posts! / r.events!).toFixed(3)}`);
    if (postsPer.length > 0) push('POSTs per event (Svix: 1)', postsPer.join('; '), null);
  }
  return out;
}

export function formatTargets(list: Target[]): string {
  return textTable(
    ['', 'env', 'target', 'measured'],
    list.map((t) => [t.pass === null ? 'n/a' : t.pass ? 'pass' : 'MISS', t.env, t.target, t.measured]),
    [true, true, true, true],
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
