import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMetrics } from '../../src/metrics';
import { startFaultCase, type FaultCase } from './support/harness';
import { TestResolver } from './support/resolver';
import { reportCase, RESULTS_DIR } from './support/results';

const TOOL = join(__dirname, '..', '..', '.tools', 'schemathesis');
/** Test cases per operation and phase; 23 operations × several phases make well over 1,000 requests. */
const MAX_EXAMPLES = Number(process.env.FAULTS_SCHEMATHESIS_EXAMPLES ?? 60);

/** Runs the pinned schemathesis CLI (installed by scripts/install-schemathesis.mjs) in `cwd`. */
function schemathesis(args: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  const { python } = JSON.parse(readFileSync(join(TOOL, 'hookline-install.json'), 'utf8')) as {
    python: string;
  };
  return new Promise((resolve) => {
    const child = spawn(python, ['-m', 'schemathesis.cli', ...args], {
      env: { ...process.env, PYTHONPATH: TOOL, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd,
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

interface Tally {
  requests: number;
  byStatusClass: Record<string, number>;
  serverErrors: number;
  checks: number;
  failedChecks: number;
}

/** Requests, answers and check outcomes, from schemathesis's NDJSON event stream. */
function tally(ndjson: string): Tally {
  const t: Tally = { requests: 0, byStatusClass: {}, serverErrors: 0, checks: 0, failedChecks: 0 };
  for (const line of ndjson.split('\n')) {
    if (!line.startsWith('{"ScenarioFinished"')) continue;
    const { recorder } = (JSON.parse(line) as { ScenarioFinished: { recorder: any } }).ScenarioFinished;
    for (const interaction of Object.values<any>(recorder.interactions ?? {})) {
      t.requests++;
      const status = interaction.response?.status_code as number | undefined;
      const cls = status === undefined ? 'none' : `${Math.floor(status / 100)}xx`;
      t.byStatusClass[cls] = (t.byStatusClass[cls] ?? 0) + 1;
      if (status !== undefined && status >= 500) t.serverErrors++;
    }
    for (const checks of Object.values<any[]>(recorder.checks ?? {})) {
      for (const check of checks) {
        t.checks++;
        if (check.status === 'failure') t.failedChecks++;
      }
    }
  }
  return t;
}

describe('fuzzing the REST API from /openapi.json (schemathesis)', () => {
  let fc: FaultCase;
  const workDir = mkdtempSync(join(tmpdir(), 'hookline-schemathesis-'));

  beforeAll(async () => {
    if (!existsSync(join(TOOL, 'hookline-install.json'))) {
      throw new Error('schemathesis is not installed: run `node scripts/install-schemathesis.mjs`');
    }
    // Every target name resolves to loopback: registrations of made-up hosts pass the SSRF check
    // (127.0.0.0/8 is allowed here) and no delivery leaves the machine.
    fc = await startFaultCase({
      name: 'schemathesis',
      service: { kind: 'in-process', metrics: createMetrics(), resolver: new TestResolver('127.0.0.1') },
    });
  });
  afterAll(async () => {
    await fc?.cleanup();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('answers no 5xx and nothing outside its own OpenAPI document', async () => {
    const ndjson = join(workDir, 'events.ndjson');
    const started = Date.now();
    const { code, output } = await schemathesis(
      [
        '--config-file',
        join(__dirname, 'schemathesis.toml'),
        'run',
        `${fc.url}/openapi.json`,
        '--header',
        `Authorization: Bearer ${fc.key}`,
        '--max-examples',
        String(MAX_EXAMPLES),
        '--seed',
        process.env.FAULTS_SCHEMATHESIS_SEED ?? '8',
        '--workers',
        '2',
        '--request-timeout',
        '20',
        '--suppress-health-check',
        'too_slow,filter_too_much',
        '--report',
        'ndjson',
        '--report-ndjson-path',
        ndjson,
      ],
      workDir,
    );
    writeFileSync(join(RESULTS_DIR, 'schemathesis.log'), output);
    const t = tally(readFileSync(ndjson, 'utf8'));
    const summary = /Test cases:\s*\n\s*(.+)/.exec(output)?.[1]?.trim() ?? '';
    reportCase('schemathesis', {
      version: JSON.parse(readFileSync(join(TOOL, 'hookline-install.json'), 'utf8')).version,
      seed: process.env.FAULTS_SCHEMATHESIS_SEED ?? '8',
      maxExamples: MAX_EXAMPLES,
      requests: t.requests,
      byStatusClass: t.byStatusClass,
      serverErrors: t.serverErrors,
      checksRun: t.checks,
      failedChecks: t.failedChecks,
      summary,
      seconds: Math.round((Date.now() - started) / 1000),
    });
    if (code !== 0) console.log(output.slice(-8000));
    expect(t.requests).toBeGreaterThanOrEqual(1000);
    expect(t.serverErrors).toBe(0);
    // Every request got an answer (no timeouts or dropped connections).
    expect(t.byStatusClass.none ?? 0).toBe(0);
    expect(t.failedChecks).toBe(0);
    expect(code).toBe(0);
  });
});
