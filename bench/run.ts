/**
 * `npm run bench [-- --quick] [-- --only <scenario>] [-- --case <substring>] [-- --profile]`: Hookline's
 * benchmarks (issue #7, ARCHITECTURE.md "Benchmarks"). Starts its own Temporal dev server (or uses
 * TEMPORAL_ADDRESS), the service as two processes (API and worker), and a loopback receiver that
 * answers at once; runs the scenarios; prints a table, the ratios to the ceilings measured in the same
 * run and the targets; writes bench/results/<time>.json. Never part of `npm test`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { summarizeDir } from './profile-summary';
import { formatRatios, formatTable, formatTargets, gitFacts, machineFacts, ratios, targets } from './report';
import { e2e } from './scenarios/e2e';
import { fanout } from './scenarios/fanout';
import { idle } from './scenarios/idle';
import { outage } from './scenarios/outage';
import { signalCeiling } from './scenarios/signal-ceiling';
import { signingCost } from './scenarios/signing-cost';
import { undiciCeiling } from './scenarios/undici-ceiling';
import { workflowOnly } from './scenarios/workflow-only';
import type { BacklogLimits } from '../src/workflows/messages';
import {
  BENCH_LIMITS,
  Cleanups,
  describeError,
  log,
  startBenchEnv,
  type BenchEnv,
  type CaseResult,
  type Scenario,
} from './support';

/** In run order. `idle` leaves 10,000 subscriptions behind: it runs after every other service scenario. */
const SCENARIOS: Record<string, Scenario> = {
  'undici-ceiling': undiciCeiling,
  'signal-ceiling': signalCeiling,
  'workflow-only': workflowOnly,
  e2e,
  fanout,
  outage,
  idle,
  'signing-cost': signingCost,
};

const USAGE = `usage: npm run bench -- [--quick] [--only <scenario>]... [--case <substring>]... [--profile]
  --quick              smaller runs (the whole run under 2 minutes)
  --only <scenario>    run only this scenario (repeatable); one of: ${Object.keys(SCENARIOS).join(', ')}
  --case <substring>   e2e: run only the cases whose label contains it (repeatable), e.g. "10 subs, 100/req"
  --idle-subs <n>      idle: register n subscriptions (default 2,000; 100 with --quick; the issue's
                       figure is 10,000, which takes ~8 minutes to register on a shared 2-core machine)
  --backlog-bytes <n>  maxBytes of the subscribers workflow-only starts (default ${BENCH_LIMITS.maxBytes})
  --profile            CPU profiles of the worker and API processes (every thread) into
                       bench/results/<time>-profile/; the top functions by self time of each e2e
                       case are printed (bench/profile-summary.ts reads them again)`;

interface Args {
  idleSubs?: number;
  quick: boolean;
  only: string[];
  cases: string[];
  limits: BacklogLimits;
  profile: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, only: [], cases: [], limits: { ...BENCH_LIMITS }, profile: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (name: string) => (arg === name ? argv[++i] : arg.slice(name.length + 1));
    if (arg === '--quick') args.quick = true;
    else if (arg === '--profile') args.profile = true;
    else if (arg === '--only' || arg.startsWith('--only=')) {
      const name = value('--only');
      if (!name || !(name in SCENARIOS)) throw new Error(`unknown scenario "${name ?? ''}"\n${USAGE}`);
      args.only.push(name);
    } else if (arg === '--case' || arg.startsWith('--case=')) {
      const c = value('--case');
      if (!c) throw new Error(`--case needs a substring\n${USAGE}`);
      args.cases.push(c);
    } else if (arg === '--idle-subs') {
      args.idleSubs = Number(argv[++i]);
      if (!Number.isInteger(args.idleSubs) || args.idleSubs <= 0) {
        throw new Error(`--idle-subs needs a positive integer\n${USAGE}`);
      }
    } else if (arg === '--backlog-bytes') {
      args.limits.maxBytes = Number(argv[++i]);
      if (!Number.isInteger(args.limits.maxBytes) || args.limits.maxBytes <= 0) {
        throw new Error(`--backlog-bytes needs a positive integer\n${USAGE}`);
      }
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else throw new Error(`unknown argument "${arg}"\n${USAGE}`);
  }
  return args;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const selected = Object.keys(SCENARIOS).filter(
    (name) => args.only.length === 0 || args.only.includes(name),
  );
  const startedAt = new Date();
  const loadAtStart = os.loadavg();

  const resultsDir = join(__dirname, 'results');
  // ISO 8601 with the colons as dashes: colons are not allowed in file names everywhere.
  const resultFile = join(resultsDir, startedAt.toISOString().replace(/:/g, '-'));
  const profileDir = args.profile ? `${resultFile}-profile` : null;

  const cleanups = new Cleanups();
  // `on`, not `once`: Ctrl-C reaches this process twice (from the terminal and relayed by tsx), and
  // a second default SIGINT would kill it half-way through the cleanup.
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      log(`${signal}: stopping everything`);
      void cleanups.close().finally(() => process.exit(130));
    });
  }

  const results: CaseResult[] = [];
  const failures: { scenario: string; error: string }[] = [];
  const timings: Record<string, number> = {};
  let env: BenchEnv | null = null;
  try {
    const envStarted = Date.now();
    env = await startBenchEnv(cleanups, { profileDir });
    timings['start-up'] = Math.round((Date.now() - envStarted) / 1000);
    log(`environment up in ${timings['start-up']} s`);
    for (const name of selected) {
      if (stopping) break;
      const started = Date.now();
      try {
        results.push(
          ...(await SCENARIOS[name]!({
            env,
            quick: args.quick,
            limits: args.limits,
            cases: args.cases,
            idleSubs: args.idleSubs,
          })),
        );
      } catch (err) {
        if (stopping) break; // everything is being closed under it: not a finding
        const error = describeError(err);
        failures.push({ scenario: name, error });
        log(`${name} FAILED: ${error}${err instanceof Error && err.stack ? `\n${err.stack}` : ''}`);
      }
      timings[name] = Math.round((Date.now() - started) / 1000);
      log(`${name} done in ${timings[name]} s`);
    }
  } finally {
    log('shutting down');
    await cleanups.close();
  }

  const ratioList = ratios(results);
  const targetList = targets(results);
  const machine = machineFacts();
  const finishedAt = new Date();
  const mode = args.quick ? 'quick' : 'full';
  const notes = results.map((r) => r.note).filter((n): n is string => n !== undefined);
  const out = [
    '',
    `Hookline bench (${mode}), ${startedAt.toISOString()}, ${Math.round((finishedAt.getTime() - startedAt.getTime()) / 1000)} s ` +
      `(${Object.entries(timings)
        .map(([k, v]) => `${k} ${v} s`)
        .join(', ')})`,
    `${machine.cpuCount} × ${machine.cpuModel}, ${machine.totalMemoryMb} MB, node ${machine.node}; load avg ${loadAtStart[0]!.toFixed(2)} at start, ${os.loadavg()[0]!.toFixed(2)} at end`,
    env
      ? `Worker process idle: RSS ${env.workerIdle.rssMaxMb} MB (cache ${env.worker.info?.maxCachedWorkflows ?? '?'} workflows, heap limit ${env.worker.info?.heapLimitMb ?? '?'} MB); API process idle: RSS ${env.apiIdleRssMb ?? '?'} MB`
      : '',
    'deliv/s: events/s at the receiver; pub/s: events/s accepted (202); RSS in MB; CPU % of one core.',
    '',
    formatTable(results),
    '',
    ...(notes.length > 0 ? ['Notes:', ...notes.map((n) => `  ${n}`), ''] : []),
    ...(ratioList.length > 0 ? ['Ratios to the ceilings of this run:', formatRatios(ratioList), ''] : []),
    ...(targetList.length > 0 ? ['Targets (issue #7):', formatTargets(targetList), ''] : []),
    ...failures.map((f) => `FAILED ${f.scenario}: ${f.error}`),
    'Figures are noisy when the machine is shared: compare them with the ceilings beside them.',
  ];

  // Process name → pid, to name CPU profiles (a restarted worker is `worker #2`).
  const pids: Record<string, number | null> = { api: env?.pids.api ?? null };
  env?.pids.workers.forEach((pid, i) => (pids[i === 0 ? 'worker' : `worker #${i + 1}`] = pid));
  let profileText = '';
  if (profileDir && env) {
    const profiled = results.filter(
      (r) => r.window && (args.cases.length > 0 || (r.scenario === 'e2e' && r.params.phase === 'saturated')),
    );
    for (const r of profiled) {
      profileText += `\nCPU profile, top 5 by self time: ${r.scenario} ${r.case}\n`;
      profileText += `${summarizeDir(profileDir, { ...r.window, top: 5, pids })}\n`;
    }
  }

  mkdirSync(resultsDir, { recursive: true });
  const file = `${resultFile}.json`;
  const report = {
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    mode,
    scenarios: selected,
    cases: args.cases,
    timingsSec: timings,
    subscriberLimits: args.limits,
    machine: { ...machine, loadAverage: { start: loadAtStart, end: os.loadavg() } },
    git: gitFacts(),
    temporal: env?.temporal ?? null,
    pids,
    workerInfo: env?.worker.info ?? null,
    workerIdle: env?.workerIdle ?? null,
    apiIdleRssMb: env?.apiIdleRssMb ?? null,
    workerLog: env?.workerLog ?? [],
    apiLog: env?.apiLog ?? [],
    results,
    ratios: ratioList,
    targets: targetList,
    failures,
    profileDir,
  };
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`${out.join('\n')}\n${profileText}Results: ${file}\n`);
  return failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(
      `bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
