/**
 * The external services of the `s3+postgres` storage configuration: radosgw (S3)
 * and PostgreSQL. Taken from the STOWAGE_TEST_* environment when it names them
 * (as scripts/test.sh exports), otherwise started here with the project's own
 * scripts/services/*.sh and stopped at the end, so `npm run bench -- --storage
 * s3+postgres` works on a fresh machine.
 *
 * Both registries share the one bucket under different key prefixes; Stowage
 * gets a new database of its own. What the run wrote is removed afterwards
 * (the whole service when it was started here).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import { DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { s3Client, type S3Settings } from './s3-client.js';

export interface ScaleOutServices {
  s3: S3Settings;
  /** A new, empty database for Stowage. */
  pgUrl: string;
  /** Key prefixes in the bucket: Stowage's ("…/", its `prefix`) and Distribution's (its `rootdirectory`, "/…"). */
  stowagePrefix: string;
  distributionRoot: string;
  /** Which services this run started itself (the rest came from the environment). */
  started: string[];
  stop(): Promise<void>;
}

/** Runs scripts/services/NAME.sh with args; resolves with its KEY=VALUE lines. */
function runScript(repoRoot: string, name: string, args: string[]): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [path.join(repoRoot, 'scripts/services', `${name}.sh`), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`scripts/services/${name}.sh ${args.join(' ')} exited ${code}:\n${err}`));
      const vars: Record<string, string> = {};
      for (const line of out.split('\n')) {
        const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
        if (m) vars[m[1]!] = m[2]!;
      }
      resolve(vars);
    });
  });
}

async function adminQuery(serverUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Deletes every object under `prefix` (the run's own keys in a shared bucket). */
async function deletePrefix(s3: S3Settings, prefix: string): Promise<void> {
  const client = s3Client(s3, 8);
  try {
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
      if (keys.length > 0)
        await client.send(new DeleteObjectsCommand({ Bucket: s3.bucket, Delete: { Objects: keys, Quiet: true } }));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  } finally {
    client.destroy();
  }
}

export async function startScaleOutServices(
  repoRoot: string,
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
): Promise<ScaleOutServices> {
  const started: string[] = [];
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const s of stops.reverse()) await s().catch((e: Error) => log(`stopping a service: ${e.message}`));
  };
  try {
    let pgServer = env.STOWAGE_TEST_PG_URL;
    if (!pgServer) {
      log('starting PostgreSQL (scripts/services/postgres.sh)');
      const vars = await runScript(repoRoot, 'postgres', ['start']);
      pgServer = vars.STOWAGE_TEST_PG_URL!;
      const dir = vars.STOWAGE_TEST_PG_DIR!;
      stops.push(async () => void (await runScript(repoRoot, 'postgres', ['stop', dir])));
      started.push('postgres');
    }
    let s3Vars: Record<string, string | undefined> = env;
    if (!env.STOWAGE_TEST_S3_ENDPOINT) {
      log('starting radosgw (scripts/services/rgw.sh, about 20 s)');
      s3Vars = await runScript(repoRoot, 'rgw', ['start']);
      const dir = s3Vars.STOWAGE_TEST_S3_DIR!;
      stops.push(async () => void (await runScript(repoRoot, 'rgw', ['stop', dir])));
      started.push('radosgw');
    }
    const need = (k: string) => {
      const v = s3Vars[`STOWAGE_TEST_S3_${k}`];
      if (!v) throw new Error(`STOWAGE_TEST_S3_${k} is not set (scripts/services/rgw.sh prints it)`);
      return v;
    };
    const s3: S3Settings = {
      endpoint: need('ENDPOINT'),
      region: need('REGION'),
      bucket: need('BUCKET'),
      accessKeyId: need('ACCESS_KEY'),
      secretAccessKey: need('SECRET_KEY'),
    };
    const run = `bench-${randomBytes(5).toString('hex')}`;
    await adminQuery(pgServer, `CREATE DATABASE ${run.replace('-', '_')}`);
    const dbUrl = new URL(pgServer);
    dbUrl.pathname = `/${run.replace('-', '_')}`;
    if (!started.includes('postgres'))
      stops.push(() => adminQuery(pgServer, `DROP DATABASE IF EXISTS ${run.replace('-', '_')} WITH (FORCE)`));
    if (!started.includes('radosgw')) stops.push(() => deletePrefix(s3, `${run}/`));
    return {
      s3,
      pgUrl: dbUrl.href,
      stowagePrefix: `${run}/stowage/`,
      distributionRoot: `/${run}/distribution`,
      started,
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
