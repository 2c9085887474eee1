import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * docker-compose.yml as Docker Compose itself resolves it (`docker compose config`): the real parser,
 * interpolation and schema. No engine is needed, only the `docker compose` plugin; where the plugin is
 * absent these tests are reported as skipped, not passed.
 */
const root = join(__dirname, '..', '..');
const composeFile = join(root, 'docker-compose.yml');

const hasCompose = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' }).status === 0;
const composeTest = hasCompose ? test : test.skip;

/** Variables the file reads; each test sets the ones it wants and none leaks in from the caller. */
const FILE_VARIABLES = [
  'API_KEYS',
  'POSTGRES_PASSWORD',
  'PUBLIC_BASE_URL',
  'TEMPORAL_NAMESPACE',
  'LOG_LEVEL',
  'ALLOWED_TARGET_NETWORKS',
  'PAYLOAD_ENCRYPTION_KEY',
  'PAYLOAD_DECRYPTION_KEYS',
  'METRICS_TOKEN',
  'CODEC_AUTH_KEYS',
];

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string | null>;
  healthcheck?: { test?: string[]; disable?: boolean };
  depends_on?: Record<string, { condition: string }>;
  restart?: string;
  volumes?: { source?: string; target: string }[];
}

function resolveCompose(env: Record<string, string> = {}): { services: Record<string, Service> } {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !FILE_VARIABLES.includes(k) && !k.startsWith('COMPOSE_')),
  );
  // --no-interpolate is not used: interpolation (defaults, required variables) is part of what is checked.
  const res = spawnSync('docker', ['compose', '-f', composeFile, 'config', '--format', 'json'], {
    cwd: root,
    env: { ...base, ...env },
    encoding: 'utf8',
  });
  if (res.status !== 0) throw new Error(`docker compose config failed:\n${res.stderr}`);
  return JSON.parse(res.stdout) as { services: Record<string, Service> };
}

/** Services that run until stopped, as opposed to the one-shot setup jobs. */
const LONG_RUNNING = ['postgresql', 'temporal', 'temporal-ui', 'hookline-api', 'hookline-worker'];
const ONE_SHOT = ['temporal-schema', 'temporal-namespace'];

describe('docker-compose.yml, as `docker compose config` resolves it', () => {
  if (!hasCompose) {
    it.skip('needs the `docker compose` plugin (absent on this machine)', () => undefined);
  }

  composeTest('parses with no variable set, and has exactly the production services', () => {
    const { services } = resolveCompose();
    expect(Object.keys(services).sort()).toEqual([...LONG_RUNNING, ...ONE_SHOT].sort());
  });

  composeTest('pins every image to an explicit version; none is `latest` or the auto-setup image', () => {
    const { services } = resolveCompose();
    for (const [name, svc] of Object.entries(services)) {
      expect({ name, image: svc.image }).toEqual({ name, image: expect.stringMatching(/^[^:@]+:[^:]+$/) });
      const tag = svc.image!.split(':')[1]!;
      expect({ name, tag }).toEqual({ name, tag: expect.stringMatching(/\d/) });
      expect(tag).not.toBe('latest');
      expect(svc.image).not.toMatch(/auto-setup/);
    }
    expect(services.temporal!.image).toMatch(/^temporalio\/server:/);
    // Schema and namespace jobs use the same admin-tools image, of the server's version.
    const serverVersion = services.temporal!.image!.split(':')[1]!;
    for (const job of ONE_SHOT) {
      expect(services[job]!.image).toMatch(
        new RegExp(`^temporalio/admin-tools:${serverVersion.replace(/\./g, '\\.')}-`),
      );
    }
  });

  composeTest('checks the health of every long-running service; one-shot jobs do not restart', () => {
    const { services } = resolveCompose();
    for (const name of LONG_RUNNING) {
      const hc = services[name]!.healthcheck;
      expect({ name, test: hc?.test?.[0] }).toEqual({ name, test: expect.stringMatching(/^CMD/) });
      expect(hc?.disable).not.toBe(true);
      expect(services[name]!.restart).toBe('unless-stopped');
    }
    for (const name of ONE_SHOT) expect(services[name]!.restart).toBe('no');
  });

  composeTest('starts in order: database, schema, server, namespace, then Hookline', () => {
    const { services } = resolveCompose();
    const dep = (svc: string, on: string) => services[svc]!.depends_on?.[on]?.condition;
    expect(dep('temporal-schema', 'postgresql')).toBe('service_healthy');
    expect(dep('temporal', 'temporal-schema')).toBe('service_completed_successfully');
    expect(dep('temporal-namespace', 'temporal')).toBe('service_healthy');
    expect(dep('temporal-ui', 'temporal')).toBe('service_healthy');
    expect(dep('hookline-api', 'temporal-namespace')).toBe('service_completed_successfully');
    expect(dep('hookline-worker', 'temporal-namespace')).toBe('service_completed_successfully');
    // Every dependency names a service of the file and waits on a condition.
    for (const svc of Object.values(services)) {
      for (const [on, { condition }] of Object.entries(svc.depends_on ?? {})) {
        expect(Object.keys(services)).toContain(on);
        expect(['service_healthy', 'service_completed_successfully']).toContain(condition);
      }
    }
  });

  composeTest('sets up the schema with admin-tools and the namespace with 7-day retention', () => {
    const { services } = resolveCompose();
    const script = (name: string) =>
      [...(services[name]!.entrypoint ?? []), ...(services[name]!.command ?? [])].join(' ');
    expect(script('temporal-schema')).toMatch(/temporal-sql-tool .*update-schema/s);
    // Both databases, each brought to the versioned schema the admin-tools image ships for PostgreSQL 12+.
    expect(script('temporal-schema')).toMatch(/for db in temporal temporal_visibility\b/);
    expect(script('temporal-schema')).toContain('-d "/etc/temporal/schema/postgresql/v12/');
    expect(script('temporal-namespace')).toMatch(/namespace create .*--retention 7d/s);
    expect(script('temporal-namespace')).toMatch(/namespace update .*--retention 7d/s);
  });

  composeTest('runs Hookline’s API and worker as two services of the one Dockerfile', () => {
    const { services } = resolveCompose();
    const api = services['hookline-api']!;
    const worker = services['hookline-worker']!;
    for (const svc of [api, worker]) {
      expect(svc.build?.dockerfile).toBe('Dockerfile');
      expect(svc.build?.context).toBe(root);
      expect(svc.environment?.TEMPORAL_ADDRESS).toBe('temporal:7233');
    }
    expect(api.command).toContain('--api-only');
    expect(worker.command).toContain('--worker-only');
    expect(api.image).toBe(worker.image);
    // Without API_KEYS the API generates a key into its data volume, which must outlive the container.
    expect(api.volumes).toEqual([expect.objectContaining({ source: 'hookline-data', target: '/app/data' })]);
  });

  composeTest('takes secrets from the environment and hard-codes none but the marked dev default', () => {
    const unset = resolveCompose().services;
    expect(unset['hookline-api']!.environment?.API_KEYS).toBe('');
    expect(unset.postgresql!.environment?.POSTGRES_PASSWORD).toBe('temporal'); // DEV DEFAULT
    for (const name of ['PAYLOAD_ENCRYPTION_KEY', 'METRICS_TOKEN', 'CODEC_AUTH_KEYS']) {
      expect(unset['hookline-api']!.environment?.[name] ?? null).toBeNull();
    }

    const set = resolveCompose({
      API_KEYS: 'acme:compose-test-key-0123456789',
      POSTGRES_PASSWORD: 'compose-test-password',
      METRICS_TOKEN: 'compose-test-metrics-token',
    }).services;
    expect(set['hookline-api']!.environment?.API_KEYS).toBe('acme:compose-test-key-0123456789');
    expect(set['hookline-worker']!.environment?.API_KEYS).toBeUndefined(); // the worker has no API
    expect(set.postgresql!.environment?.POSTGRES_PASSWORD).toBe('compose-test-password');
    for (const name of ['temporal', 'temporal-schema']) {
      expect(set[name]!.environment?.POSTGRES_PWD).toBe('compose-test-password');
    }
    expect(set['hookline-worker']!.environment?.METRICS_TOKEN).toBe('compose-test-metrics-token');
  });
});
