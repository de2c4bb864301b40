import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface Service {
  image?: string;
  build?: unknown;
  profiles?: string[];
  environment?: Record<string, string | number>;
  volumes?: string[];
  ports?: string[];
  networks?: string[];
  network_mode?: string;
  user?: string;
  read_only?: boolean;
  cap_drop?: string[];
  security_opt?: string[];
  deploy?: { resources?: { reservations?: { devices?: Array<{ driver?: string; count?: unknown; capabilities?: string[] }> } } };
}

describe('self-host files', () => {
  it('docker-compose.yml wires Postgres, the app, the engine, private networks, models and GPUs', async () => {
    // Interpolated as `docker compose` does with an empty environment: defaults apply.
    const raw = await readFile(path.join(root, 'docker-compose.yml'), 'utf8');
    const text = raw.replace(/\$\{(\w+)(?:(:?-)([^}]*)|:?\?[^}]*)?\}/g, (_m, _name: string, _op?: string, def?: string) => def ?? '');
    const compose = parse(text) as {
      services: Record<string, Service>;
      networks: Record<string, { internal?: boolean } | null>;
      volumes: Record<string, unknown>;
    };
    const { services, networks } = compose;
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['postgres', 'app', 'docker-proxy', 'gpu-check']));
    const app = services.app!;
    const pg = services.postgres!;
    const env = app.environment!;

    // Postgres is on an internal network only, shared with the app, and publishes nothing.
    expect(pg.ports).toBeUndefined();
    expect(pg.networks).toEqual(['db']);
    expect(networks.db?.internal).toBe(true);
    expect(app.networks).toContain('db');
    expect(String(env.DATABASE_URL)).toMatch(/^postgres:\/\/context_vault:@postgres:5432\/context_vault$/);

    // The app drives the engine: the socket, or the proxy limited to container-side endpoints.
    expect(env.SANDBOX_RUNTIME).toBe('docker');
    expect(app.volumes).toContain('/var/run/docker.sock:/var/run/docker.sock');
    const proxy = services['docker-proxy']!;
    expect(proxy.profiles).toContain('socket-proxy');
    expect(proxy.volumes).toEqual(['/var/run/docker.sock:/var/run/docker.sock:ro']);
    expect(proxy.environment).toMatchObject({ CONTAINERS: 1, NETWORKS: 1, POST: 1, EXEC: 0, VOLUMES: 0, SYSTEM: 0, SECRETS: 0 });
    expect(proxy.ports).toBeUndefined();
    expect(proxy.networks).toEqual(['docker-api']);
    expect(networks['docker-api']?.internal).toBe(true);
    expect(app.networks).toContain('docker-api');

    // Sandboxes: private networks by name prefix, attached to this container, GPUs via DeviceRequests.
    expect(env.SANDBOX_NETWORK).toBe('context-vault-sandbox');
    expect(env.SANDBOX_ATTACH_CONTAINER).toBe('context-vault-app');
    expect((app as { container_name?: string }).container_name).toBe('context-vault-app');
    expect(String(env.SANDBOX_GPUS)).toMatch(/all/);

    // Model weights: a host path mounted at the same path, read-only, and handed to the sandboxes.
    const models = app.volumes!.find((v) => v.endsWith(':ro') && v.includes('models'))!;
    expect(models).toBeDefined();
    const [src, dst, mode] = models.split(':');
    expect(src).toBe(dst);
    expect(mode).toBe('ro');
    expect(env.SANDBOX_MODELS_DIR).toBe(src);

    // A GPU reservation in the compose file itself (the toolkit check uses the same path the
    // sandboxes' DeviceRequests take).
    const gpu = services['gpu-check']!.deploy!.resources!.reservations!.devices![0]!;
    expect(gpu).toMatchObject({ driver: 'nvidia', count: 'all', capabilities: ['gpu'] });

    // The tested Ollama release, pinned by digest; the guard is the app's own image (it has iptables).
    expect(String(env.SANDBOX_IMAGE)).toMatch(/^ollama\/ollama:\d+\.\d+\.\d+@sha256:[0-9a-f]{64}$/);
    expect(env.SANDBOX_GUARD_IMAGE).toBe(app.image);
    // The GPU check runs with a sandbox's hardening, so it proves what a sandbox will get.
    const check = services['gpu-check']!;
    expect(check).toMatchObject({ user: '65534:65534', read_only: true, cap_drop: ['ALL'], network_mode: 'none' });
    expect(check.security_opt).toEqual(['no-new-privileges:true']);

    // Nothing publishes Ollama's port, and no service is Ollama: sandboxes exist only on demand.
    for (const [name, s] of Object.entries(services)) {
      for (const p of s.ports ?? []) expect(p, name).not.toMatch(/11434/);
      expect(s.image ?? '', name).not.toMatch(/ollama/);
    }
    // The app itself is reachable on loopback only, for a reverse proxy in front.
    expect(app.ports).toEqual(['127.0.0.1:8080:8080']);

    // Every setting in .env reaches the app (BACKUP_*, STORAGE, S3_*: the docs say to set them
    // there), but a host-side PORT in .env never moves the port the app listens on inside.
    expect((app as { env_file?: unknown }).env_file).toBe('.env');
    expect(env).toMatchObject({ HOST: '0.0.0.0', PORT: 8080 });
    // Backups go to a volume, not the container's own layer (lost with the container).
    expect(app.volumes).toContain('backups:/backups');
    expect(compose.volumes).toHaveProperty('backups');
  });

  it("the image carries pg_dump of the compose database's major version, and no .env reaches a build layer", async () => {
    const compose = await readFile(path.join(root, 'docker-compose.yml'), 'utf8');
    const pgMajor = Number(/image: postgres:(\d+)/.exec(compose)![1]);
    const docker = await readFile(path.join(root, 'Dockerfile'), 'utf8');
    const final = docker.slice(docker.lastIndexOf('\nFROM '));
    const client = /postgresql-client-(\d+)/.exec(final);
    expect(client, 'the runtime stage installs postgresql-client-<major>').not.toBeNull();
    // pg_dump refuses a server newer than itself: backups would fail.
    expect(Number(client![1])).toBeGreaterThanOrEqual(pgMajor);
    expect(final).toMatch(/mkdir -p \/data \/backups && chown node:node \/data \/backups/);
    const ignored = (await readFile(path.join(root, '.dockerignore'), 'utf8')).split('\n').map((l) => l.trim());
    expect(ignored).toEqual(expect.arrayContaining(['.env', '.env.*']));
  });

  it('the Dockerfile builds the web app with dev dependencies and runs as non-root with runtime ones', async () => {
    const text = await readFile(path.join(root, 'Dockerfile'), 'utf8');
    const lines = text.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
    const stages = lines.filter((l) => /^FROM\s/i.test(l));
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const s of stages) expect(s).toMatch(/^FROM node:(2[02468])[-.\w]*/);
    const build = text.slice(text.indexOf('AS build'), text.indexOf('AS deps'));
    expect(build).toMatch(/npm ci(?! --omit)/);
    expect(build).toMatch(/npm run build/);
    const final = text.slice(text.lastIndexOf('\nFROM '));
    expect(final).toMatch(/COPY --from=deps \/app\/node_modules/);
    expect(final).toMatch(/COPY --from=build \/app\/web\/dist/);
    expect(final).toMatch(/^USER node$/m);
    // The image doubles as each sandbox's network guard, whose firewall needs iptables.
    expect(final).toMatch(/apt-get install -y --no-install-recommends iptables/);
    expect(final).toMatch(/^CMD \["node", "--max-semi-space-size=4", "dist\/server\/main.js"\]$/m);
    // npm start builds what is stale, then runs the compiled server with the same flags.
    const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.start).toBe('node scripts/build.mjs && node --max-semi-space-size=4 dist/server/main.js');
    // Runtime needs only production dependencies: tsx is for development and tests.
    expect(pkg.dependencies.tsx).toBeUndefined();
    expect(pkg.scripts.export).toBe('node scripts/build.mjs && node dist/server/cli/export.js');
    expect(pkg.scripts.models).toBeDefined();
  });
});
