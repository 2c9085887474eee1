import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { FULL } from './env';

/** Where the figures go (gitignored): one JSON line per case while the run lasts, then latest.json. */
export const RESULTS_DIR = join(__dirname, '..', 'results');
const LINES = join(RESULTS_DIR, 'cases.jsonl');

/** Starts a run's collection afresh (global setup). */
export function resetResults(): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  rmSync(LINES, { force: true });
}

/**
 * Prints one case's figures as one JSON line (`FAULTS {...}`) and keeps it for latest.json.
 * Figures are what this run saw; nothing here is asserted.
 */
export function reportCase(name: string, figures: Record<string, unknown>): void {
  const line = JSON.stringify({ case: name, ...figures });
  process.stdout.write(`FAULTS ${line}\n`);
  mkdirSync(RESULTS_DIR, { recursive: true });
  appendFileSync(LINES, `${line}\n`);
}

/** Gathers the run's lines into latest.json (global teardown). */
export function writeLatest(): void {
  if (!existsSync(LINES)) return;
  const cases = readFileSync(LINES, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as unknown);
  writeFileSync(
    join(RESULTS_DIR, 'latest.json'),
    `${JSON.stringify(
      {
        form: FULL ? 'full' : 'short',
        at: new Date().toISOString(),
        machine: { cpus: cpus().length, memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version },
        cases,
      },
      null,
      2,
    )}\n`,
  );
}
