import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';

/** Where the stack cases' figures go (gitignored): one JSON line per case, then latest.json. */
export const RESULTS_DIR = join(__dirname, '..', 'results');
const LINES = join(RESULTS_DIR, 'cases.jsonl');

/** Starts a run's collection afresh (global setup). */
export function resetResults(): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  rmSync(LINES, { force: true });
}

/** Prints one case's figures as one line (`STACK {...}`) and keeps it for latest.json. Nothing here is asserted. */
export function reportCase(name: string, figures: Record<string, unknown>): void {
  const line = JSON.stringify({ case: name, loadAverage1m: Number(loadavg()[0]!.toFixed(2)), ...figures });
  process.stdout.write(`STACK ${line}\n`);
  mkdirSync(RESULTS_DIR, { recursive: true });
  appendFileSync(LINES, `${line}\n`);
}

/** Gathers the run's lines into latest.json (global teardown). */
export function writeLatest(extra: Record<string, unknown>): void {
  if (!existsSync(LINES)) return;
  const cases = readFileSync(LINES, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as unknown);
  writeFileSync(
    join(RESULTS_DIR, 'latest.json'),
    `${JSON.stringify(
      {
        at: new Date().toISOString(),
        machine: { cpus: cpus().length, memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version },
        ...extra,
        cases,
      },
      null,
      2,
    )}\n`,
  );
}
