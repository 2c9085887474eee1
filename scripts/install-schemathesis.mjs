// Installs the pinned schemathesis (API fuzzer, from PyPI) into .tools/schemathesis for the fault
// suite (`npm run test:faults`). Idempotent: a marker file records the version and the Python that
// installed it; the suite runs `<python> -m schemathesis.cli` with PYTHONPATH set to the folder.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The pin. Schemathesis 4 (its CLI is `schemathesis run <schema URL>`). */
export const SCHEMATHESIS_VERSION = '4.32.5';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const SCHEMATHESIS_DIR = join(root, '.tools', 'schemathesis');
const marker = join(SCHEMATHESIS_DIR, 'hookline-install.json');

/** [major, minor, micro] of a Python, or null when it does not run. */
function versionOf(exe) {
  const probe = spawnSync(exe, ['-c', 'import sys; print(sys.executable); print(*sys.version_info[:3])'], {
    encoding: 'utf8',
  });
  if (probe.status !== 0) return null;
  const [path, version] = probe.stdout.trim().split('\n');
  return { path, version: version.split(' ').map(Number) };
}

/**
 * CPython 3.11.0-3.11.7 and 3.12.0-3.12.1 raise "AST constructor recursion depth mismatch" (a
 * CPython bug, fixed in 3.11.8 and 3.12.2) inside hypothesis while schemathesis builds its tests.
 */
function unaffected([major, minor, micro]) {
  if (major !== 3 || minor < 9) return false;
  if (minor === 11) return micro >= 8;
  if (minor === 12) return micro >= 2;
  return true;
}

/** HOOKLINE_PYTHON, else the newest unaffected Python found (pyenv's too), else python3. */
function python() {
  const candidates = [process.env.HOOKLINE_PYTHON, 'python3.13', 'python3.12', 'python3', 'python'];
  const pyenv = spawnSync('pyenv', ['root'], { encoding: 'utf8' });
  if (pyenv.status === 0) {
    const versions = spawnSync('pyenv', ['versions', '--bare'], { encoding: 'utf8' }).stdout ?? '';
    for (const v of versions
      .split('\n')
      .filter((l) => /^3\.\d+\.\d+$/.test(l.trim()))
      .reverse()) {
      candidates.push(join(pyenv.stdout.trim(), 'versions', v.trim(), 'bin', 'python3'));
    }
  }
  const found = candidates.filter(Boolean).map(versionOf).filter(Boolean);
  const good = found.filter((p) => unaffected(p.version)).sort((a, b) => b.version[1] - a.version[1]);
  return (good[0] ?? found[0])?.path ?? null;
}

function installed(exe) {
  if (!existsSync(marker)) return false;
  const { version, python: installedWith } = JSON.parse(readFileSync(marker, 'utf8'));
  return version === SCHEMATHESIS_VERSION && installedWith === exe;
}

const exe = python();
if (!exe) {
  console.error('[hookline] Python 3 with pip is needed to install schemathesis for the fault suite.');
  process.exit(1);
}
if (!installed(exe)) {
  rmSync(SCHEMATHESIS_DIR, { recursive: true, force: true });
  console.log(
    `[hookline] installing schemathesis==${SCHEMATHESIS_VERSION} into ${SCHEMATHESIS_DIR} (${exe})`,
  );
  const run = spawnSync(
    exe,
    [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--disable-pip-version-check',
      '--no-warn-script-location',
      '--target',
      SCHEMATHESIS_DIR,
      `schemathesis==${SCHEMATHESIS_VERSION}`,
    ],
    { stdio: 'inherit', env: { ...process.env, PIP_ROOT_USER_ACTION: 'ignore' } },
  );
  if (run.status !== 0) {
    console.error(`[hookline] installing schemathesis==${SCHEMATHESIS_VERSION} failed`);
    process.exit(1);
  }
  writeFileSync(marker, `${JSON.stringify({ version: SCHEMATHESIS_VERSION, python: exe })}\n`);
}
