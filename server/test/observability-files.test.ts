import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (p: string) => readFile(path.join(root, p), 'utf8');

interface Service {
  image?: string;
  profiles?: string[];
  volumes?: string[];
  ports?: string[];
  networks?: string[];
  environment?: Record<string, unknown>;
}

/**
 * The monitoring files are consistent with each other: the compose profile mounts what
 * Prometheus and Grafana are configured to read, Grafana's data source is the one the dashboard
 * names, and every alert is well formed. (That every metric they query exists is checked against
 * a live /metrics in server/metrics/metrics.int.test.ts.)
 */
describe('observability files', () => {
  it('the observability profile runs Prometheus and Grafana on loopback with the rules and dashboard provisioned', async () => {
    const text = (await read('docker-compose.yml')).replace(
      /\$\{(\w+)(?:(:?-)([^}]*)|:?\?[^}]*)?\}/g,
      (_m, _n: string, _op?: string, def?: string) => def ?? '',
    );
    const compose = parse(text) as {
      services: Record<string, Service>;
      networks: Record<string, { internal?: boolean } | null>;
      volumes: Record<string, unknown>;
    };
    const prom = compose.services.prometheus!;
    const grafana = compose.services.grafana!;
    for (const s of [prom, grafana]) {
      expect(s.profiles).toEqual(['observability']);
      for (const p of s.ports ?? []) expect(p).toMatch(/^127\.0\.0\.1:/);
      // A host path mounted into the container exists in the repository.
      for (const v of s.volumes ?? []) {
        if (!v.startsWith('./')) continue;
        await expect(
          readFile(path.join(root, v.split(':')[0]!)).catch((e: NodeJS.ErrnoException) => (e.code === 'EISDIR' ? 'dir' : Promise.reject(e))),
        ).resolves.toBeDefined();
      }
    }
    expect(prom.volumes).toContain('./deploy/observability/alerts.yml:/etc/prometheus/alerts.yml:ro');
    expect(grafana.volumes).toContain('./deploy/observability/grafana/dashboards:/var/lib/grafana/dashboards:ro');
    // Prometheus reaches the app over an internal network; the app stays loopback-only.
    expect(compose.networks.metrics?.internal).toBe(true);
    expect(prom.networks).toContain('metrics');
    expect(compose.services.app!.networks).toContain('metrics');
    expect(compose.services.app!.ports).toEqual(['127.0.0.1:8080:8080']);
    // No calls home from Grafana.
    expect(grafana.environment).toMatchObject({ GF_ANALYTICS_REPORTING_ENABLED: 'false', GF_ANALYTICS_CHECK_FOR_UPDATES: 'false' });

    const promConfig = parse(await read('deploy/observability/prometheus.yml')) as {
      rule_files: string[];
      scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
    };
    expect(promConfig.rule_files).toEqual(['/etc/prometheus/alerts.yml']);
    expect(promConfig.scrape_configs[0]).toMatchObject({ job_name: 'context-vault', static_configs: [{ targets: ['app:8080'] }] });
  });

  it('every alert has a name, an expression, a severity and a summary; the dashboard uses the provisioned data source', async () => {
    const rules = parse(await read('deploy/observability/alerts.yml')) as {
      groups: Array<{ rules: Array<{ alert: string; expr: string; labels: { severity: string }; annotations: { summary: string } }> }>;
    };
    const all = rules.groups.flatMap((g) => g.rules);
    const names = all.map((r) => r.alert);
    expect(new Set(names).size).toBe(names.length);
    for (const r of all) {
      expect(r.expr, r.alert).toMatch(/\S/);
      expect(['warning', 'critical'], r.alert).toContain(r.labels.severity);
      expect(r.annotations.summary, r.alert).toMatch(/\S/);
    }
    const exprs = all.map((r) => r.expr).join('\n');
    for (const metric of [
      'up{job="context-vault"}',
      'cv_http_request_duration_seconds_count',
      'cv_chat_time_to_first_token_seconds_bucket',
      'cv_db_pool_waiting',
      'cv_jobs_total',
      'cv_data_disk_free_bytes',
      'cv_database_size_bytes',
      'cv_backup_last_success_timestamp_seconds',
    ]) {
      expect(exprs).toContain(metric);
    }

    const source = parse(await read('deploy/observability/grafana/provisioning/datasources/prometheus.yml')) as {
      datasources: Array<{ uid: string; url: string }>;
    };
    const dashboard = JSON.parse(await read('deploy/observability/grafana/dashboards/context-vault.json')) as {
      uid: string;
      panels: Array<{ id: number; type: string; datasource?: { uid: string }; targets?: Array<{ expr: string }> }>;
    };
    expect(source.datasources[0]).toMatchObject({ uid: 'prometheus', url: 'http://prometheus:9090' });
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dashboard.panels.filter((x) => x.type !== 'row')) {
      expect(p.datasource?.uid).toBe('prometheus');
      expect(p.targets?.length).toBeGreaterThan(0);
    }
  });
});
