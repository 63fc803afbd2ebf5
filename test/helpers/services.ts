/**
 * Real PostgreSQL and S3 (radosgw) for tests. scripts/test.sh starts one of each
 * per run and says so through STOWAGE_TEST_PG_URL / STOWAGE_TEST_S3_*; a test file
 * run on its own starts its own through the same scripts/services/*.sh and stops
 * it when the process is done. Never a skip: a service that cannot start fails
 * the test with the script's output.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import type { PostgresOptions } from '../../src/storage/postgres/database.js';

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
const toStop: Array<{ service: string; dir: string }> = [];
let stopHookInstalled = false;

/** Starts scripts/services/NAME.sh once per process; its KEY=VALUE lines. */
function startService(service: 'postgres' | 'rgw'): Promise<Record<string, string>> {
  let p = started.get(service);
  if (!p) {
    p = (async () => {
      let stdout: string;
      try {
        ({ stdout } = await run('bash', [`${SCRIPTS}/${service}.sh`, 'start'], { maxBuffer: 1 << 20, timeout: 180_000 }));
      } catch (e) {
        const err = e as { stderr?: string; message: string };
        throw new Error(`scripts/services/${service}.sh start failed: ${err.message}\n${err.stderr ?? ''}`);
      }
      const vars = Object.fromEntries(
        stdout
          .split('\n')
          .map((l) => /^([A-Z0-9_]+)=(.*)$/.exec(l))
          .filter((m): m is RegExpExecArray => m !== null)
          .map((m) => [m[1]!, m[2]!]),
      );
      const dir = vars.STOWAGE_TEST_PG_DIR ?? vars.STOWAGE_TEST_S3_DIR;
      if (dir) toStop.push({ service, dir });
      if (!stopHookInstalled) {
        stopHookInstalled = true;
        // When the test file is done (the loop is empty), stop what it started.
        process.once('beforeExit', () => {
          for (const s of toStop.splice(0)) void run('bash', [`${SCRIPTS}/${s.service}.sh`, 'stop', s.dir]).catch(() => undefined);
        });
      }
      return vars;
    })();
    started.set(service, p);
  }
  return p;
}

/** The URL of a PostgreSQL server to use (superuser, database `postgres`). */
export async function postgresUrl(): Promise<string> {
  const url = process.env.STOWAGE_TEST_PG_URL ?? (await startService('postgres')).STOWAGE_TEST_PG_URL;
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
  const env = process.env.STOWAGE_TEST_S3_ENDPOINT ? process.env : await startService('rgw');
  const get = (k: string) => {
    const v = env[`STOWAGE_TEST_S3_${k}`];
    if (!v) throw new Error(`STOWAGE_TEST_S3_${k} is not set (scripts/services/rgw.sh prints it)`);
    return v;
  };
  return { endpoint: get('ENDPOINT'), region: get('REGION'), bucket: get('BUCKET'), accessKeyId: get('ACCESS_KEY'), secretAccessKey: get('SECRET_KEY') };
}

/** A key prefix no other test uses, so tests share one bucket without seeing each other. */
export function freshPrefix(): string {
  return `t-${randomBytes(6).toString('hex')}/`;
}
