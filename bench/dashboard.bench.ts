/**
 * Dashboard data for 5 years of daily series: seven metrics (resting and all-day heart rate,
 * steps from two devices, weight, blood pressure, SpO2) with samples every day for five years,
 * sealed and stored as the importers store them; then GET /api/records/dashboard over the whole
 * five years (monthly points from sealed yearly roll-ups of 12,782 daily stats) through the real app, timed inside
 * the server process. Baseline in the same run: one card's 30 days of daily stats
 * (GET /api/records/series). Target: p95 under 200 ms. PGlite always; PostgreSQL too when
 * BENCH_DATABASE_URL is set.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { SeriesAccumulator } from '../integrations/series/day-chunk.js';
import type { QuantitySample } from '../integrations/types.js';
import { buildApp } from '../server/app.js';
import { loadConfig } from '../server/config.js';
import { migrateToLatest, openDatabase } from '../server/db/index.js';
import { AuditRepository } from '../server/repositories/audit.repository.js';
import { SeriesRepository } from '../server/repositories/series.repository.js';
import { SessionsRepository } from '../server/repositories/sessions.repository.js';
import { UsersRepository } from '../server/repositories/users.repository.js';
import { AuthService } from '../server/services/auth.service.js';
import { SeriesService } from '../server/services/series.service.js';
import type { BenchResult } from './types.js';

const YEARS = 5;
const RUNS = Number(process.env.BENCH_DASHBOARD_RUNS ?? 30);
const DAY = 86_400_000;

function samplesFor(day: number, t0: number): QuantitySample[] {
  const start = t0 + day * DAY;
  const localDate = new Date(start).toISOString().slice(0, 10);
  const s = (type: string, unit: string, at: number, value: number, sourceName = 'Watch', dur = 0): QuantitySample => ({
    type,
    unit,
    startMs: at,
    endMs: at + dur,
    localDate,
    value,
    sourceName,
  });
  const out: QuantitySample[] = [
    s('HKQuantityTypeIdentifierRestingHeartRate', 'count/min', start + 7 * 3600_000, 52 + (day % 11)),
    s('HKQuantityTypeIdentifierBodyMass', 'kg', start + 7 * 3600_000, 70 + Math.sin(day / 40) * 2),
    s('8480-6', 'mm[Hg]', start + 8 * 3600_000, 118 + (day % 17), 'Cuff'),
    s('8462-4', 'mm[Hg]', start + 8 * 3600_000, 76 + (day % 9), 'Cuff'),
    s('HKQuantityTypeIdentifierOxygenSaturation', '%', start + 3 * 3600_000, 0.95 + (day % 4) / 100),
  ];
  for (let h = 0; h < 24; h++) {
    out.push(s('HKQuantityTypeIdentifierHeartRate', 'count/min', start + h * 3600_000 + 120_000, 60 + ((day + h * 7) % 40)));
    out.push(s('HKQuantityTypeIdentifierStepCount', 'count', start + h * 3600_000, 200 + ((day * 13 + h) % 300), 'Watch', 600_000));
    out.push(s('HKQuantityTypeIdentifierStepCount', 'count', start + h * 3600_000, 150 + ((day * 7 + h) % 200), 'iPhone', 600_000));
  }
  return out;
}

async function freshPostgres(admin: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `cv_bench_dash_${Date.now().toString(36)}`;
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  await c.query(`create database ${name}`);
  await c.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const d = new pg.Client({ connectionString: admin });
      await d.connect();
      await d.query(`drop database if exists ${name} with (force)`);
      await d.end();
    },
  };
}

const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.ceil(xs.length * 0.95) - 1]!;

async function run(label: string, databaseUrl?: string): Promise<BenchResult[]> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'cv-bench-dash-'));
  const { db } = await openDatabase(databaseUrl ? { url: databaseUrl } : { dataDir });
  await migrateToLatest(db);
  const app = await buildApp({
    config: loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'warn', SANDBOX_RUNTIME: 'none', ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) }),
    db,
  });
  try {
    const reg = await app.inject({
      method: 'POST',
      url: '/api/auth/register',
      payload: { email: 'bench-dash@example.com', passphrase: 'benchmark passphrase' },
    });
    const cookie = String(reg.headers['set-cookie']).split(';')[0]!;
    const auth = new AuthService(new UsersRepository(db), new SessionsRepository(db), new AuditRepository(db), { sessionTtlMs: 3_600_000 });
    const session = (await auth.authenticate(cookie.slice(cookie.indexOf('=') + 1)))!;
    const series = new SeriesService(new SeriesRepository(db));
    const days = YEARS * 365 + 1;
    const t0 = Date.UTC(2021, 0, 1);
    // Stored in quarters, as a person's imports arrive.
    for (let d0 = 0; d0 < days; d0 += 90) {
      const acc = new SeriesAccumulator();
      for (let d = d0; d < Math.min(days, d0 + 90); d++) acc.addMany(samplesFor(d, t0));
      await series.store(session, acc.drainAll());
    }
    const last = new Date(t0 + (days - 1) * DAY).toISOString().slice(0, 10);
    const first = new Date(t0).toISOString().slice(0, 10);
    const month = new Date(t0 + (days - 30) * DAY).toISOString().slice(0, 10);
    // Server time: the app handles the request in this process (app.inject), no network between.
    const measure = async (url: string) => {
      const warm = await app.inject({ method: 'GET', url, headers: { cookie } });
      if (warm.statusCode !== 200) throw new Error(`${url}: ${warm.statusCode} ${warm.body}`);
      const xs: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const t = performance.now();
        await app.inject({ method: 'GET', url, headers: { cookie } });
        xs.push(performance.now() - t);
      }
      return p95(xs);
    };
    const base = await measure(`/api/records/series?type=HKQuantityTypeIdentifierRestingHeartRate&from=${month}&to=${last}`);
    const five = await measure(`/api/records/dashboard?from=${first}&to=${last}`);
    const latest = await measure('/api/records/dashboard');
    const dash = JSON.parse((await app.inject({ method: 'GET', url: `/api/records/dashboard?from=${first}&to=${last}`, headers: { cookie } })).body) as {
      cards: Array<{ resolution: string; series: Array<{ points: Array<{ days: number }> }> }>;
    };
    const daysServed = dash.cards.reduce((n, c) => n + c.series.reduce((m, s) => m + s.points.reduce((k, p) => k + p.days, 0), 0), 0);
    const baseline = { name: `one card, 30 days (${label})`, value: base };
    return [
      {
        name: `dashboard, 5 years, ${dash.cards.length} cards, ${daysServed} daily stats as monthly points, p95 (${label})`,
        value: five,
        unit: 'ms',
        baseline,
        ratio: five / base,
        target: '< 200 ms',
        pass: five < 200,
      },
      // Daily points: seven series x 30 sealed daily stats, no roll-ups involved (no target set).
      { name: `dashboard, latest 30 days per card, p95 (${label})`, value: latest, unit: 'ms', baseline, ratio: latest / base },
    ];
  } finally {
    await app.close();
    await db.destroy();
    await rm(dataDir, { recursive: true, force: true });
  }
}

export default async function dashboardBench(): Promise<BenchResult[]> {
  const out = await run('PGlite');
  const admin = process.env.BENCH_DATABASE_URL;
  if (admin) {
    const pgdb = await freshPostgres(admin);
    try {
      out.push(...(await run('PostgreSQL', pgdb.url)));
    } finally {
      await pgdb.drop();
    }
  }
  return out;
}
