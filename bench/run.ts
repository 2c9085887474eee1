/**
 * `npm run bench [-- --quick] [-- --only <scenario>]`: Hookline's benchmarks (ARCHITECTURE.md,
 * "Benchmarks"). Starts its own Temporal dev server (or uses TEMPORAL_ADDRESS), a worker process and
 * a loopback receiver; runs the scenarios; prints a table and writes bench/results/<time>.json.
 * Never part of `npm test`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { formatRatios, formatTable, gitFacts, machineFacts, ratios } from './report';
import { apiPublish } from './scenarios/api-publish';
import { signalCeiling } from './scenarios/signal-ceiling';
import { signingCost } from './scenarios/signing-cost';
import { subscriberFanout } from './scenarios/subscriber-fanout';
import { subscriberLatency } from './scenarios/subscriber-latency';
import { subscriberThroughput } from './scenarios/subscriber-throughput';
import { undiciCeiling } from './scenarios/undici-ceiling';
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

/** In run order. */
const SCENARIOS: Record<string, Scenario> = {
  'subscriber-throughput': subscriberThroughput,
  'subscriber-latency': subscriberLatency,
  'subscriber-fanout': subscriberFanout,
  'undici-ceiling': undiciCeiling,
  'signal-ceiling': signalCeiling,
  'api-publish': apiPublish,
  'signing-cost': signingCost,
};

const USAGE = `usage: npm run bench -- [--quick] [--only <scenario>]...
  --quick            smaller runs (the whole run under 2 minutes)
  --only <scenario>  run only this scenario (repeatable); one of: ${Object.keys(SCENARIOS).join(', ')}
  --backlog-bytes <n>  the subscribers' maxBytes (default ${BENCH_LIMITS.maxBytes}; see BENCH_LIMITS)
  --profile          write CPU profiles of the worker process to bench/results/<time>-profile/`;

function parseArgs(argv: string[]): {
  quick: boolean;
  only: string[];
  limits: BacklogLimits;
  profile: boolean;
} {
  let quick = false;
  let profile = false;
  const only: string[] = [];
  const limits = { ...BENCH_LIMITS };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') quick = true;
    else if (arg === '--profile') profile = true;
    else if (arg === '--only' || arg.startsWith('--only=')) {
      const name = arg === '--only' ? argv[++i] : arg.slice('--only='.length);
      if (!name || !(name in SCENARIOS)) throw new Error(`unknown scenario "${name ?? ''}"\n${USAGE}`);
      only.push(name);
    } else if (arg === '--backlog-bytes') {
      limits.maxBytes = Number(argv[++i]);
      if (!Number.isInteger(limits.maxBytes) || limits.maxBytes <= 0) {
        throw new Error(`--backlog-bytes needs a positive integer\n${USAGE}`);
      }
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else throw new Error(`unknown argument "${arg}"\n${USAGE}`);
  }
  return { quick, only, limits, profile };
}

async function main(): Promise<number> {
  const { quick, only, limits, profile } = parseArgs(process.argv.slice(2));
  const selected = Object.keys(SCENARIOS).filter((name) => only.length === 0 || only.includes(name));
  const startedAt = new Date();
  const loadAtStart = os.loadavg();

  const resultsDir = join(__dirname, 'results');
  // ISO 8601 with the colons as dashes: colons are not allowed in file names everywhere.
  const resultFile = join(resultsDir, startedAt.toISOString().replace(/:/g, '-'));

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
  let env: BenchEnv | null = null;
  try {
    env = await startBenchEnv(cleanups, { profileDir: profile ? `${resultFile}-profile` : null });
    for (const name of selected) {
      if (stopping) break;
      const started = Date.now();
      try {
        results.push(...(await SCENARIOS[name]!({ env, quick, limits })));
        log(`${name} done in ${Math.round((Date.now() - started) / 1000)} s`);
      } catch (err) {
        if (stopping) break; // everything is being closed under it: not a finding
        const error = describeError(err);
        failures.push({ scenario: name, error });
        log(`${name} FAILED: ${error}${err instanceof Error && err.stack ? `\n${err.stack}` : ''}`);
      }
    }
  } finally {
    log('shutting down');
    await cleanups.close();
  }

  const ratioList = ratios(results);
  const machine = machineFacts();
  const finishedAt = new Date();
  const mode = quick ? 'quick' : 'full';
  const out = [
    '',
    `Hookline bench (${mode}), ${startedAt.toISOString()}, ${Math.round((finishedAt.getTime() - startedAt.getTime()) / 1000)} s`,
    `${machine.cpuCount} × ${machine.cpuModel}, ${machine.totalMemoryMb} MB, node ${machine.node}; load avg ${loadAtStart[0]!.toFixed(2)} at start, ${os.loadavg()[0]!.toFixed(2)} at end`,
    `Subscriber backlog limits: maxEvents ${limits.maxEvents}, maxBytes ${limits.maxBytes}` +
      (env ? `; worker process idle (2 workers polling): RSS ${env.workerIdle.rssMaxMb} MB` : ''),
    '',
    formatTable(results),
    '',
    ...(ratioList.length > 0
      ? ['Delivered events/s ÷ bare undici events/s (batch 100, same endpoint):', formatRatios(ratioList), '']
      : []),
    ...failures.map((f) => `FAILED ${f.scenario}: ${f.error}`),
    'CPU % is of one core (over 100 = more than one core). Figures are noisy when the machine is shared.',
  ];

  mkdirSync(resultsDir, { recursive: true });
  const file = `${resultFile}.json`;
  const report = {
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    mode,
    scenarios: selected,
    subscriberLimits: limits,
    machine: { ...machine, loadAverage: { start: loadAtStart, end: os.loadavg() } },
    git: gitFacts(),
    temporal: env?.temporal ?? null,
    workerIdle: env?.workerIdle ?? null,
    workerLog: env?.workerLog ?? [],
    results,
    ratios: ratioList,
    failures,
  };
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`${out.join('\n')}\nResults: ${file}\n`);
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
