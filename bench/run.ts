/**
 * `npm run bench [-- --quick] [-- --stack] [-- --only <scenario>]…`: Hookline's benchmarks (issue #14's
 * targets, issue #15's stack). Starts the embedded default (the project's dev server, the SQLite
 * store, one API and one worker process of src/main.ts) and, with --stack, the production shape of
 * scripts/stack.sh (the Temporal server on PostgreSQL, two API and two worker processes, then one
 * worker against two), and a loopback receiver that answers at once; runs the same scenarios on each;
 * prints a table, the ratios to the ceilings measured in the same run, and the targets; writes
 * bench/results/<time>.json. Never part of `npm test`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { summarizeDir } from './profile-summary';
import { Receiver } from './receiver';
import { formatRatios, formatTable, formatTargets, gitFacts, machineFacts, ratios, targets } from './report';
import { e2eScenario } from './scenarios/e2e';
import { fanout } from './scenarios/fanout';
import { idle } from './scenarios/idle';
import { outage } from './scenarios/outage';
import { signalCeiling } from './scenarios/signal-ceiling';
import { schemaCost } from './scenarios/schema-cost';
import { signingCost } from './scenarios/signing-cost';
import { undiciCeiling } from './scenarios/undici-ceiling';
import {
  Cleanups,
  describeError,
  log,
  startEmbedded,
  startStack,
  type BenchEnv,
  type CaseResult,
  type Scenario,
} from './support';

/** In run order. `idle` leaves its subscriptions behind: it runs last. */
const SCENARIOS = [
  'undici-ceiling',
  'signing-cost',
  'schema-cost',
  'signal-ceiling',
  'e2e',
  'outage',
  'fanout',
  'idle',
];
/** Machine-level ceilings: measured once, in the first environment. */
const ONCE = new Set(['undici-ceiling', 'signing-cost', 'schema-cost']);

const USAGE = `usage: npm run bench -- [--quick] [--stack] [--only <scenario>]... [--case <substring>]...
  --quick              smaller runs: e2e with 10 subscriptions only and shorter phases, a 30 s outage,
                       1,000 idle subscriptions, one fan-out round (a few minutes per environment)
  --stack              also the stack of scripts/stack.sh (brought up if it is not), side by side with
                       the embedded default, plus e2e with 1 worker against 2
  --only <scenario>    run only this scenario (repeatable); one of: ${SCENARIOS.join(', ')}
  --case <substring>   e2e: only the cases whose label contains it, e.g. "10 subs, 100/req"
  --idle-subs <n>      idle: register n subscriptions (default 10,000; 1,000 with --quick)
  --outage-sec <n>     outage: how long the endpoint answers 503 (default 600; 30 with --quick)
  --profile            CPU profiles of the API and worker processes into bench/results/<time>-profile/`;

interface Args {
  quick: boolean;
  stack: boolean;
  only: string[];
  cases: string[];
  idleSubs?: number;
  outageSec?: number;
  profile: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, stack: false, only: [], cases: [], profile: false };
  const positive = (name: string, raw: string | undefined) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} needs a positive integer\n${USAGE}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') args.quick = true;
    else if (arg === '--stack') args.stack = true;
    else if (arg === '--profile') args.profile = true;
    else if (arg === '--only') {
      const name = argv[++i];
      if (!name || !SCENARIOS.includes(name)) throw new Error(`unknown scenario "${name ?? ''}"\n${USAGE}`);
      args.only.push(name);
    } else if (arg === '--case') {
      const c = argv[++i];
      if (!c) throw new Error(`--case needs a substring\n${USAGE}`);
      args.cases.push(c);
    } else if (arg === '--idle-subs') args.idleSubs = positive(arg, argv[++i]);
    else if (arg === '--outage-sec') args.outageSec = positive(arg, argv[++i]);
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else throw new Error(`unknown argument "${arg}"\n${USAGE}`);
  }
  return args;
}

const load1 = () => os.loadavg()[0]!.toFixed(2);

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const selected = SCENARIOS.filter((name) => args.only.length === 0 || args.only.includes(name));
  const startedAt = new Date();
  const loadAtStart = os.loadavg();
  const resultsDir = join(__dirname, 'results');
  const resultFile = join(resultsDir, startedAt.toISOString().replace(/:/g, '-'));
  const profileDir = args.profile ? `${resultFile}-profile` : null;

  const results: CaseResult[] = [];
  const failures: { env: string; scenario: string; error: string }[] = [];
  const timings: Record<string, number> = {};
  const envFacts: Record<string, unknown>[] = [];
  const all = new Cleanups();
  let stopping = false;
  let current: Cleanups | null = null;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      log(`${signal}: stopping everything`);
      void (current?.close() ?? Promise.resolve()).then(() => all.close()).finally(() => process.exit(130));
    });
  }
  const receiver = await Receiver.start();
  all.push(() => receiver.close());

  const kinds: ('embedded' | 'stack')[] = args.stack ? ['embedded', 'stack'] : ['embedded'];
  let first = true;
  for (const kind of kinds) {
    if (stopping) break;
    const cleanups = new Cleanups();
    current = cleanups;
    let env: BenchEnv | null = null;
    try {
      const t0 = Date.now();
      const opts = {
        receiver,
        profileDir,
        apis: kind === 'stack' ? 2 : 1,
        workers: kind === 'stack' ? 2 : 1,
      };
      env = kind === 'stack' ? await startStack(cleanups, opts) : await startEmbedded(cleanups, opts);
      timings[`${kind} start-up`] = Math.round((Date.now() - t0) / 1000);
      envFacts.push({
        label: env.label,
        temporal: env.temporal,
        postgresPid: env.postgresPid,
        apis: env.apis.map((p) => p.pid),
        workers: env.workers.map((p) => p.pid),
        idleMemMb: env.idleMemMb,
        taskQueue: env.taskQueue,
      });
      log(
        `${env.label}: up in ${timings[`${kind} start-up`]} s; idle memory ${JSON.stringify(env.idleMemMb)} MB`,
      );
      // [name, scenario, env label of its rows, before it runs]
      const plan: [string, Scenario, string, (() => Promise<void>) | null][] = [];
      for (const name of selected) {
        if (ONCE.has(name) && !first) continue;
        if (name === 'e2e') {
          plan.push(['e2e', e2eScenario('e2e'), env.label, null]);
          if (kind === 'stack') {
            const e = env;
            plan.push(['e2e', e2eScenario('e2e-1w', [10]), 'stack 1 worker', () => e.setWorkers(1)]);
            plan.push(['-', () => Promise.resolve([]), env.label, () => e.setWorkers(2)]);
          }
        } else {
          const s: Record<string, Scenario> = {
            'undici-ceiling': undiciCeiling,
            'signing-cost': signingCost,
            'schema-cost': schemaCost,
            'signal-ceiling': signalCeiling,
            outage,
            fanout,
            idle,
          };
          plan.push([name, s[name]!, env.label, null]);
        }
      }
      for (const [name, scenario, label, before] of plan) {
        if (stopping) break;
        const started = Date.now();
        const loadBefore = load1();
        try {
          if (before) await before();
          const rows = await scenario({
            env,
            quick: args.quick,
            cases: args.cases,
            idleSubs: args.idleSubs,
            outageSec: args.outageSec,
          });
          const load = `${loadBefore}→${load1()}`;
          for (const row of rows) results.push({ ...row, env: label, load });
        } catch (err) {
          if (stopping) break;
          const error = describeError(err);
          failures.push({ env: label, scenario: name, error });
          log(
            `${label} ${name} FAILED: ${error}${err instanceof Error && err.stack ? `\n${err.stack}` : ''}`,
          );
        }
        if (name !== '-') {
          timings[`${label} ${name}`] = Math.round((Date.now() - started) / 1000);
          log(`${label} ${name} done in ${timings[`${label} ${name}`]} s (load ${loadBefore}→${load1()})`);
        }
      }
    } catch (err) {
      failures.push({ env: kind, scenario: 'start-up', error: describeError(err) });
      log(`${kind} start-up FAILED: ${describeError(err)}`);
    } finally {
      log(`${kind}: shutting down`);
      await cleanups.close();
      current = null;
    }
    first = false;
  }
  await all.close();

  const ratioList = ratios(results);
  const targetList = targets(results);
  const machine = machineFacts();
  const finishedAt = new Date();
  const mode = `${args.quick ? 'quick' : 'full'}${args.stack ? ', --stack' : ''}`;
  const notes = results.map((r) => (r.note ? `[${r.env}] ${r.note}` : null)).filter((n) => n !== null);
  const out = [
    '',
    `Hookline bench (${mode}), ${startedAt.toISOString()}, ${Math.round((finishedAt.getTime() - startedAt.getTime()) / 1000)} s`,
    `${machine.cpuCount} × ${machine.cpuModel}, ${machine.totalMemoryMb} MB, node ${machine.node}; load avg ${loadAtStart.map((l) => l.toFixed(2)).join(' ')} at start, ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} at end`,
    ...envFacts.map((e) => `${String(e.label)}: idle memory after start (MB) ${JSON.stringify(e.idleMemMb)}`),
    'deliv/s: events/s at the receiver; pub/s: events/s accepted (202); ooo: events out of order; calls/ev:',
    'Temporal frontend calls (polls excluded) per delivered event; hist/ev: history events per event;',
    'api% … bench%: CPU in % of one core of the API process(es), worker(s), Temporal server, PostgreSQL',
    '(postmaster and backends) and this process (producers, receiver); wkr MB: largest worker RSS;',
    'load: 1-minute load average before→after the scenario.',
    '',
    formatTable(results),
    '',
    ...(notes.length > 0 ? ['Notes:', ...notes.map((n) => `  ${n}`), ''] : []),
    ...(ratioList.length > 0 ? ['Ratios to the ceilings of this run:', formatRatios(ratioList), ''] : []),
    ...(targetList.length > 0 ? ['Targets (issue #14):', formatTargets(targetList), ''] : []),
    ...failures.map((f) => `FAILED ${f.env} ${f.scenario}: ${f.error}`),
  ];

  let profileText = '';
  if (profileDir) {
    for (const r of results.filter((x) => x.scenario === 'e2e' && x.params.phase === 'saturated')) {
      if (!r.resources) continue;
      profileText += `\nCPU profile, top 5 by self time: ${r.env} ${r.case}\n`;
      profileText += `${summarizeDir(profileDir, { ...r.resources.window, top: 5, pids: {} })}\n`;
    }
  }

  mkdirSync(resultsDir, { recursive: true });
  const file = `${resultFile}.json`;
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        startedAt: startedAt.toISOString(),
        finishedAt: finishedAt.toISOString(),
        mode,
        scenarios: selected,
        timingsSec: timings,
        machine: { ...machine, loadAverage: { start: loadAtStart, end: os.loadavg() } },
        git: gitFacts(),
        envs: envFacts,
        results,
        ratios: ratioList,
        targets: targetList,
        failures,
        profileDir,
      },
      null,
      2,
    )}\n`,
  );
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
