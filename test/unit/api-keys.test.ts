import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveApiKeys } from '../../src/api/keys';
import { loadConfig } from '../../src/config';

describe('the generated API key (API_KEYS unset)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'hookline-keys-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const config = () => loadConfig({ DATA_DIR: dir });

  it('is generated once into DATA_DIR/api-key (0600, no temporary file left), then read back', () => {
    const first = resolveApiKeys(config());
    expect(first.generated).toBe(true);
    expect(first.keys[0]!.key).toMatch(/^hk_[A-Za-z0-9_-]{32}$/);
    expect(readdirSync(dir)).toEqual(['api-key']);
    expect(statSync(join(dir, 'api-key')).mode & 0o777).toBe(0o600);
    // A second process on the same DATA_DIR (an API replica on the same volume) answers to the same key.
    const second = resolveApiKeys(config());
    expect(second).toEqual({ keys: first.keys, generated: false, file: first.file });
  });

  it('replaces a file too short to be a key', () => {
    writeFileSync(join(dir, 'api-key'), 'short\n');
    const got = resolveApiKeys(config());
    expect(got.generated).toBe(true);
    expect(readFileSync(join(dir, 'api-key'), 'utf8').trim()).toBe(got.keys[0]!.key);
    expect(readdirSync(dir)).toEqual(['api-key']);
  });
});
