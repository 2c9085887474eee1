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
  'TEMPORAL_DB_PASSWORD',
  'HOOKLINE_DB_PASSWORD',
  'HOOKLINE_API_REPLICAS',
  'HOOKLINE_WORKER_REPLICAS',
  'HOOKLINE_API_PORTS',
  'TEMPORAL_HISTORY_SHARDS',
  'RECONCILE_INTERVAL_MS',
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
  deploy?: { replicas?: number };
  ports?: { target: number; published?: string }[];
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
const ONE_SHOT = ['postgresql-setup', 'temporal-schema', 'temporal-namespace'];

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
    // Schema and namespace jobs use the same admin-tools image, of the server's version; the
    // database job uses the database's own image (its psql).
    const serverVersion = services.temporal!.image!.split(':')[1]!;
    expect(services['postgresql-setup']!.image).toBe(services.postgresql!.image);
    for (const job of ['temporal-schema', 'temporal-namespace']) {
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
    expect(dep('postgresql-setup', 'postgresql')).toBe('service_healthy');
    expect(dep('temporal-schema', 'postgresql-setup')).toBe('service_completed_successfully');
    expect(dep('temporal', 'temporal-schema')).toBe('service_completed_successfully');
    expect(dep('temporal-namespace', 'temporal')).toBe('service_healthy');
    expect(dep('temporal-ui', 'temporal')).toBe('service_healthy');
    expect(dep('hookline-api', 'temporal-namespace')).toBe('service_completed_successfully');
    expect(dep('hookline-worker', 'temporal-namespace')).toBe('service_completed_successfully');
    // Hookline's database exists before any Hookline process starts (they migrate it).
    expect(dep('hookline-api', 'postgresql-setup')).toBe('service_completed_successfully');
    expect(dep('hookline-worker', 'postgresql-setup')).toBe('service_completed_successfully');
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
    // One PostgreSQL: roles and databases for Temporal and Hookline, each owned by its own role.
    expect(script('postgresql-setup')).toContain('CREATE ROLE temporal LOGIN');
    expect(script('postgresql-setup')).toContain('CREATE ROLE hookline LOGIN');
    for (const [db, owner] of [
      ['temporal', 'temporal'],
      ['temporal_visibility', 'temporal'],
      ['hookline', 'hookline'],
    ]) {
      expect(script('postgresql-setup')).toContain(`CREATE DATABASE ${db} OWNER ${owner}`);
    }
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

  composeTest('mirrors the stack: one PostgreSQL for Temporal and Hookline, the same settings', () => {
    const { services } = resolveCompose();
    const api = services['hookline-api']!;
    const worker = services['hookline-worker']!;
    // Exactly one database server; Temporal and both Hookline services point at it.
    const databases = Object.entries(services).filter(
      ([name, svc]) => /^postgres:/.test(svc.image ?? '') && !ONE_SHOT.includes(name),
    );
    expect(databases.map(([name]) => name)).toEqual(['postgresql']);
    expect(services.temporal!.environment?.POSTGRES_SEEDS).toBe('postgresql');
    for (const svc of [api, worker]) {
      expect(svc.environment?.DATABASE_URL).toBe('postgres://hookline:hookline@postgresql:5432/hookline');
    }
    // The settings scripts/stack/hookline.sh gives every Hookline process, with the same names.
    const common = ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'DATABASE_URL', 'LOG_LEVEL', 'PUBLIC_BASE_URL'];
    for (const name of common) {
      expect(api.environment?.[name]).toEqual(expect.any(String));
      expect(worker.environment?.[name]).toBe(api.environment?.[name]);
    }
    expect(api.environment?.PORT).toBe('3000');
    expect(worker.environment?.METRICS_PORT).toBe('9464');
    // The stack's 4 history shards, settable.
    expect(services.temporal!.environment?.NUM_HISTORY_SHARDS).toBe('4');
    expect(
      resolveCompose({ TEMPORAL_HISTORY_SHARDS: '512' }).services.temporal!.environment?.NUM_HISTORY_SHARDS,
    ).toBe('512');
  });

  composeTest('runs two API and two worker replicas by default, and as many as asked', () => {
    const defaults = resolveCompose().services;
    expect(defaults['hookline-api']!.deploy?.replicas).toBe(2);
    expect(defaults['hookline-worker']!.deploy?.replicas).toBe(2);
    // One host port per API replica, as the stack's two ports.
    expect(defaults['hookline-api']!.ports).toEqual([
      expect.objectContaining({ target: 3000, published: '3000-3001' }),
    ]);
    const scaled = resolveCompose({
      HOOKLINE_API_REPLICAS: '3',
      HOOKLINE_API_PORTS: '3000-3002',
      HOOKLINE_WORKER_REPLICAS: '5',
    }).services;
    expect(scaled['hookline-api']!.deploy?.replicas).toBe(3);
    expect(scaled['hookline-api']!.ports).toEqual([expect.objectContaining({ published: '3000-3002' })]);
    expect(scaled['hookline-worker']!.deploy?.replicas).toBe(5);
  });

  composeTest('takes secrets from the environment and hard-codes none but the marked dev default', () => {
    const unset = resolveCompose().services;
    expect(unset['hookline-api']!.environment?.API_KEYS).toBe('');
    // DEV DEFAULTS, one per role.
    expect(unset.postgresql!.environment?.POSTGRES_PASSWORD).toBe('postgres');
    expect(unset.temporal!.environment?.POSTGRES_PWD).toBe('temporal');
    expect(unset['postgresql-setup']!.environment?.HOOKLINE_DB_PASSWORD).toBe('hookline');
    for (const name of ['PAYLOAD_ENCRYPTION_KEY', 'METRICS_TOKEN', 'CODEC_AUTH_KEYS']) {
      expect(unset['hookline-api']!.environment?.[name] ?? null).toBeNull();
    }

    const set = resolveCompose({
      API_KEYS: 'acme:compose-test-key-0123456789',
      POSTGRES_PASSWORD: 'compose-test-password',
      TEMPORAL_DB_PASSWORD: 'compose-test-temporal',
      HOOKLINE_DB_PASSWORD: 'compose-test-hookline',
      METRICS_TOKEN: 'compose-test-metrics-token',
    }).services;
    expect(set['hookline-api']!.environment?.API_KEYS).toBe('acme:compose-test-key-0123456789');
    expect(set['hookline-worker']!.environment?.API_KEYS).toBeUndefined(); // the worker has no API
    expect(set.postgresql!.environment?.POSTGRES_PASSWORD).toBe('compose-test-password');
    expect(set['postgresql-setup']!.environment).toMatchObject({
      PGPASSWORD: 'compose-test-password',
      TEMPORAL_DB_PASSWORD: 'compose-test-temporal',
      HOOKLINE_DB_PASSWORD: 'compose-test-hookline',
    });
    for (const name of ['temporal', 'temporal-schema']) {
      expect(set[name]!.environment?.POSTGRES_PWD).toBe('compose-test-temporal');
    }
    for (const name of ['hookline-api', 'hookline-worker']) {
      expect(set[name]!.environment?.DATABASE_URL).toBe(
        'postgres://hookline:compose-test-hookline@postgresql:5432/hookline',
      );
    }
    expect(set['hookline-worker']!.environment?.METRICS_TOKEN).toBe('compose-test-metrics-token');
  });
});
