/**
 * Real services for tests (PostgreSQL, S3 on radosgw, the Docker Engine,
 * containerd). scripts/test.sh starts one of each per run and says so through
 * STOWAGE_TEST_* variables (STOWAGE_TEST_PG_URL, STOWAGE_TEST_S3_*, …); a test file
 * run on its own starts its own through the same scripts/services/*.sh and stops
 * it when the process is done. Never a skip: a service that cannot start fails
 * the test with the script's output.
 */
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import type { PostgresOptions } from '../../src/storage/postgres/database.js';
import { onExit } from './tools.js';

const run = promisify(execFile);
/** scripts/services, from dist/test/helpers. */
const SCRIPTS = resolve(fileURLToPath(import.meta.url), '../../../../scripts/services');

export interface S3Settings {
  endpoint: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
}

const started = new Map<string, Promise<Record<string, string>>>();

/** Parses the KEY=VALUE lines a service script prints. */
export function parseServiceOutput(stdout: string): Record<string, string> {
  return Object.fromEntries(
    stdout
      .split('\n')
      .map((l) => /^([A-Z0-9_]+)=(.*)$/.exec(l.trim()))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1]!, m[2]!]),
  );
}

/**
 * Starts scripts/services/NAME.sh once per process; its KEY=VALUE lines. `dirKey`
 * names the line holding its state dir: the process stops it from there when it
 * exits, however it exits (the daemon is not our child and would outlive us).
 */
export function startService(service: string, dirKey: string): Promise<Record<string, string>> {
  let p = started.get(service);
  if (!p) {
    p = (async () => {
      const script = `${SCRIPTS}/${service}.sh`;
      let stdout: string;
      try {
        ({ stdout } = await run('bash', [script, 'start'], { maxBuffer: 1 << 20, timeout: 180_000 }));
      } catch (e) {
        const err = e as { stderr?: string; message: string };
        throw new Error(`scripts/services/${service}.sh start failed: ${err.message}\n${err.stderr ?? ''}`);
      }
      const vars = parseServiceOutput(stdout);
      const dir = vars[dirKey];
      if (!dir) throw new Error(`scripts/services/${service}.sh start printed no ${dirKey}:\n${stdout}`);
      onExit(() => spawnSync('bash', [script, 'stop', dir], { stdio: 'ignore', timeout: 60_000 }));
      return vars;
    })();
    started.set(service, p);
  }
  return p;
}

/**
 * The variables `keys` of a service: the instance scripts/test.sh started for the
 * whole run when they are all set, otherwise this process's own.
 */
export async function serviceEnv(
  service: string,
  keys: readonly string[],
  dirKey: string,
): Promise<Record<string, string>> {
  const given = Object.fromEntries(keys.map((k) => [k, process.env[k] ?? '']));
  const vars = Object.values(given).every((v) => v !== '') ? given : await startService(service, dirKey);
  const missing = keys.filter((k) => !vars[k]);
  if (missing.length > 0) throw new Error(`scripts/services/${service}.sh gave no ${missing.join(', ')}`);
  return vars;
}

/** The URL of a PostgreSQL server to use (superuser, database `postgres`). */
export async function postgresUrl(): Promise<string> {
  const url =
    process.env.STOWAGE_TEST_PG_URL ?? (await startService('postgres', 'STOWAGE_TEST_PG_DIR')).STOWAGE_TEST_PG_URL;
  if (!url) throw new Error('scripts/services/postgres.sh printed no STOWAGE_TEST_PG_URL');
  return url;
}

/**
 * Connection options for a fresh, empty schema of its own (tests run in
 * parallel over one server), and a function that drops it.
 */
export async function freshPostgres(): Promise<{ options: PostgresOptions; drop(): Promise<void> }> {
  const url = await postgresUrl();
  const schema = `t_${randomBytes(6).toString('hex')}`;
  return {
    options: { url, schema, pool: 8 },
    async drop() {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

/** An S3 endpoint and bucket to use (radosgw). */
export async function s3Settings(): Promise<S3Settings> {
  const env = process.env.STOWAGE_TEST_S3_ENDPOINT ? process.env : await startService('rgw', 'STOWAGE_TEST_S3_DIR');
  const get = (k: string) => {
    const v = env[`STOWAGE_TEST_S3_${k}`];
    if (!v) throw new Error(`STOWAGE_TEST_S3_${k} is not set (scripts/services/rgw.sh prints it)`);
    return v;
  };
  return {
    endpoint: get('ENDPOINT'),
    region: get('REGION'),
    bucket: get('BUCKET'),
    accessKeyId: get('ACCESS_KEY'),
    secretAccessKey: get('SECRET_KEY'),
  };
}

/** A key prefix no other test uses, so tests share one bucket without seeing each other. */
export function freshPrefix(): string {
  return `t-${randomBytes(6).toString('hex')}/`;
}

/** A fresh, empty database of its own on the test PostgreSQL server, and a function that drops it. */
export async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const server = await postgresUrl();
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: server });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  return { url: url.href, drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/**
 * STOWAGE_* environment for `stowage serve` over the test PostgreSQL and S3: a new
 * database and a new key prefix, so replicas given the same env share them and
 * nothing else does.
 */
export async function scaleOutEnv(
  options: { redirect?: boolean } = {},
): Promise<{ env: Record<string, string>; drop(): Promise<void> }> {
  const s3 = await s3Settings();
  const db = await freshDatabase();
  return {
    env: {
      STOWAGE_BLOBS_DRIVER: 's3',
      STOWAGE_S3_ENDPOINT: s3.endpoint,
      STOWAGE_S3_REGION: s3.region,
      STOWAGE_S3_BUCKET: s3.bucket,
      STOWAGE_S3_ACCESS_KEY_ID: s3.accessKeyId,
      STOWAGE_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      STOWAGE_S3_PATH_STYLE: 'true',
      STOWAGE_S3_PREFIX: freshPrefix(),
      STOWAGE_S3_REDIRECT: String(options.redirect ?? true),
      STOWAGE_METADATA_DRIVER: 'postgres',
      STOWAGE_POSTGRES_URL: db.url,
      STOWAGE_POSTGRES_POOL: '10',
    },
    drop: db.drop,
  };
}

/** nginx, round robin without stickiness, in front of `backends` (HOST:PORT each). */
export async function startLoadBalancer(
  backends: string[],
): Promise<{ url: string; host: string; stop(): Promise<void> }> {
  let stdout: string;
  try {
    ({ stdout } = await run('bash', [`${SCRIPTS}/nginx.sh`, 'start', ...backends], { timeout: 30_000 }));
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`scripts/services/nginx.sh start failed: ${err.message}\n${err.stderr ?? ''}`);
  }
  const url = /^STOWAGE_TEST_LB_URL=(.*)$/m.exec(stdout)?.[1];
  const dir = /^STOWAGE_TEST_LB_DIR=(.*)$/m.exec(stdout)?.[1];
  if (!url || !dir) throw new Error(`nginx.sh printed no URL: ${stdout}`);
  return {
    url,
    host: new URL(url).host,
    stop: async () => void (await run('bash', [`${SCRIPTS}/nginx.sh`, 'stop', dir])),
  };
}

/** A real Prometheus server (scripts/services/prometheus.sh): its URL and the dir targets are announced in. */
export async function prometheus(): Promise<{ url: string; dir: string }> {
  const keys = ['STOWAGE_TEST_PROMETHEUS_URL', 'STOWAGE_TEST_PROMETHEUS_DIR'];
  const vars = await serviceEnv('prometheus', keys, 'STOWAGE_TEST_PROMETHEUS_DIR');
  return { url: vars.STOWAGE_TEST_PROMETHEUS_URL!, dir: vars.STOWAGE_TEST_PROMETHEUS_DIR! };
}
