import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigError,
  DEFAULTS,
  isLoopback,
  parseAddr,
  readConfigFile,
  readEnv,
  resolveConfig,
} from '../../src/config/config.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stowage-config-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

let n = 0;
async function yamlFile(text: string): Promise<string> {
  const path = join(dir, `config-${n++}.yaml`);
  await writeFile(path, text);
  return path;
}

function configError(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    assert.match(e.message, message);
    return true;
  });
}

describe('config resolution order', () => {
  it('uses the defaults when nothing is set', () => {
    assert.deepEqual(resolveConfig({}, {}, {}), DEFAULTS);
    assert.deepEqual(DEFAULTS, {
      addr: 'localhost:5000',
      data: './data',
      logLevel: 'info',
      maxManifestBytes: 4 * 1024 * 1024,
      uploadTtlSeconds: 86400,
      fsync: true,
      shutdownGraceSeconds: 30,
      gc: { intervalMs: 6 * 3_600_000, gracePeriodMs: 3_600_000 },
      storage: { blobs: { driver: 'disk' }, metadata: { driver: 'sqlite' } },
      allowedHosts: [],
      // Limits (README "Security"): timeouts in seconds, then connection, file and session caps.
      ...{ bodyTimeoutSeconds: 60, headersTimeoutSeconds: 30, keepAliveTimeoutSeconds: 65 },
      ...{ maxConnections: 1024, maxConnectionsPerAddress: 256, maxOpenUploadFiles: 256 },
      ...{ maxUploads: 10_000, maxUploadsPerRepository: 1_000, maxUploadsPerUser: 1_000 },
      metrics: { enabled: false },
      events: {
        pulls: false,
        timeoutMs: 10_000,
        retryInitialMs: 1_000,
        retryMaxMs: 300_000,
        giveUpAfterMs: 86_400_000,
        endpoints: [],
      },
      // The web UI and /api/v1: on, 12 h sessions.
      ui: { enabled: true, sessionTtlSeconds: 43_200, signatureKeys: [] },
    });
  });

  it('flags > env > file > defaults, key by key', () => {
    const file = { addr: 'file:1', data: '/file', logLevel: 'debug', uploadTtlSeconds: 60 };
    const env = { addr: 'env:2', data: '/env' };
    const flags = { addr: 'flag:3' };
    const c = resolveConfig(file, env, flags);
    assert.equal(c.addr, 'flag:3');
    assert.equal(c.data, '/env');
    assert.equal(c.logLevel, 'debug');
    assert.equal(c.uploadTtlSeconds, 60);
    assert.equal(c.maxManifestBytes, DEFAULTS.maxManifestBytes);
  });

  it('converts env strings to numbers and booleans', () => {
    const env = readEnv({
      STOWAGE_ADDR: '0.0.0.0:5000',
      STOWAGE_DATA: '/var/lib/stowage',
      STOWAGE_LOG_LEVEL: 'warn',
      STOWAGE_MAX_MANIFEST_BYTES: '1048576',
      STOWAGE_UPLOAD_TTL_SECONDS: '3600',
      STOWAGE_FSYNC: 'false',
      STOWAGE_SHUTDOWN_GRACE_SECONDS: '0',
    });
    assert.deepEqual(resolveConfig({}, env, {}), {
      ...DEFAULTS,
      addr: '0.0.0.0:5000',
      data: '/var/lib/stowage',
      logLevel: 'warn',
      maxManifestBytes: 1048576,
      uploadTtlSeconds: 3600,
      fsync: false,
      shutdownGraceSeconds: 0,
      storage: DEFAULTS.storage,
    });
    assert.equal(resolveConfig({}, readEnv({ STOWAGE_FSYNC: '0' }), {}).fsync, false);
    assert.equal(resolveConfig({}, readEnv({ STOWAGE_FSYNC: '1' }), {}).fsync, true);
    assert.equal(resolveConfig({}, readEnv({ STOWAGE_FSYNC: 'true' }), {}).fsync, true);
  });

  it('reads every limit from env and from YAML (snake_case), refusing values below their minimum', async () => {
    const env = readEnv({
      STOWAGE_PUBLIC_URL: 'https://registry.example.com',
      STOWAGE_ALLOWED_HOSTS: 'a.example,b.example:5000',
      STOWAGE_BODY_TIMEOUT_SECONDS: '5',
      STOWAGE_HEADERS_TIMEOUT_SECONDS: '6',
      STOWAGE_KEEP_ALIVE_TIMEOUT_SECONDS: '7',
      STOWAGE_MAX_CONNECTIONS: '8',
      STOWAGE_MAX_CONNECTIONS_PER_ADDRESS: '9',
      STOWAGE_MAX_OPEN_UPLOAD_FILES: '10',
      STOWAGE_MAX_UPLOADS: '11',
      STOWAGE_MAX_UPLOADS_PER_REPOSITORY: '12',
      STOWAGE_MAX_UPLOADS_PER_USER: '13',
    });
    const limits = {
      publicUrl: 'https://registry.example.com',
      allowedHosts: ['a.example', 'b.example:5000'],
      bodyTimeoutSeconds: 5,
      headersTimeoutSeconds: 6,
      keepAliveTimeoutSeconds: 7,
      maxConnections: 8,
      maxConnectionsPerAddress: 9,
      maxOpenUploadFiles: 10,
      maxUploads: 11,
      maxUploadsPerRepository: 12,
      maxUploadsPerUser: 13,
    };
    assert.deepEqual(resolveConfig({}, env, {}), { ...DEFAULTS, ...limits });
    const yaml = await yamlFile(
      'public_url: https://registry.example.com\nallowed_hosts: [a.example, "b.example:5000"]\nbody_timeout_seconds: 5\nheaders_timeout_seconds: 6\n' +
        'keep_alive_timeout_seconds: 7\nmax_connections: 8\nmax_connections_per_address: 9\nmax_open_upload_files: 10\nmax_uploads: 11\n' +
        'max_uploads_per_repository: 12\nmax_uploads_per_user: 13\n',
    );
    assert.deepEqual(resolveConfig(readConfigFile(yaml), {}, {}), { ...DEFAULTS, ...limits });
    for (const k of [
      'bodyTimeoutSeconds',
      'maxConnections',
      'maxConnectionsPerAddress',
      'maxOpenUploadFiles',
      'maxUploadsPerUser',
    ]) {
      configError(() => resolveConfig({ [k]: 0 }, {}, {}), new RegExp(k));
    }
  });

  it('ignores empty and unrelated environment variables', () => {
    assert.deepEqual(readEnv({ STOWAGE_ADDR: '', STOWAGE_UNKNOWN: 'x', PATH: '/bin', ADDR: 'x:1' }), {});
    assert.deepEqual(resolveConfig({}, readEnv({ STOWAGE_ADDR: '' }), {}), DEFAULTS);
  });

  it('refuses out-of-range and ill-typed values', () => {
    configError(() => resolveConfig({ maxManifestBytes: 1023 }, {}, {}), /maxManifestBytes/);
    configError(() => resolveConfig({}, { maxManifestBytes: 'lots' }, {}), /maxManifestBytes/);
    configError(() => resolveConfig({ uploadTtlSeconds: 0 }, {}, {}), /uploadTtlSeconds/);
    configError(() => resolveConfig({ uploadTtlSeconds: 1.5 }, {}, {}), /uploadTtlSeconds/);
    configError(() => resolveConfig({ shutdownGraceSeconds: -1 }, {}, {}), /shutdownGraceSeconds/);
    configError(() => resolveConfig({}, readEnv({ STOWAGE_FSYNC: 'yes' }), {}), /fsync/);
    configError(() => resolveConfig({ fsync: 'no' }, {}, {}), /fsync/);
    configError(() => resolveConfig({ addr: 5000 }, {}, {}), /addr/);
    configError(() => resolveConfig({ data: '' }, {}, {}), /data/);
    configError(() => resolveConfig({ logLevel: null }, {}, {}), /logLevel/);
  });
});

describe('YAML config file', () => {
  it('reads snake_case keys', async () => {
    const path = await yamlFile(
      [
        '# stowage.yaml',
        'addr: 127.0.0.1:5000',
        'data: /srv/stowage',
        'log_level: debug',
        'max_manifest_bytes: 8388608',
        'upload_ttl_seconds: 7200',
        'fsync: false',
        'shutdown_grace_seconds: 5',
        'gc: { interval: 30m, grace_period: 1h30m }',
        '',
      ].join('\n'),
    );
    const file = readConfigFile(path);
    assert.deepEqual(resolveConfig(file, {}, {}), {
      ...DEFAULTS,
      gc: { intervalMs: 30 * 60_000, gracePeriodMs: 90 * 60_000 },
      addr: '127.0.0.1:5000',
      data: '/srv/stowage',
      logLevel: 'debug',
      maxManifestBytes: 8388608,
      uploadTtlSeconds: 7200,
      fsync: false,
      shutdownGraceSeconds: 5,
      storage: DEFAULTS.storage,
    });
  });

  it('reads camelCase keys', async () => {
    const path = await yamlFile(
      'logLevel: error\nmaxManifestBytes: 2048\nuploadTtlSeconds: 10\nshutdownGraceSeconds: 1\n',
    );
    assert.deepEqual(readConfigFile(path), {
      logLevel: 'error',
      maxManifestBytes: 2048,
      uploadTtlSeconds: 10,
      shutdownGraceSeconds: 1,
    });
  });

  it('keeps a quoted IPv6 address a string, and env/flags still win over the file', async () => {
    const path = await yamlFile('addr: "[::1]:5000"\ndata: ./from-file\n');
    const file = readConfigFile(path);
    assert.equal(resolveConfig(file, {}, {}).addr, '[::1]:5000');
    assert.equal(resolveConfig(file, readEnv({ STOWAGE_DATA: '/from-env' }), {}).data, '/from-env');
    assert.equal(
      resolveConfig(file, readEnv({ STOWAGE_DATA: '/from-env' }), { data: '/from-flag' }).data,
      '/from-flag',
    );
  });

  it('treats an empty file as no settings', async () => {
    assert.deepEqual(readConfigFile(await yamlFile('')), {});
    assert.deepEqual(readConfigFile(await yamlFile('# nothing here\n')), {});
  });

  it('rejects unknown keys, naming them', async () => {
    configError(() => readConfigFile(join(dir, 'missing.yaml')), /cannot read config/);
    const typo = await yamlFile('addr: localhost:5000\nlog-level: debug\n');
    configError(() => readConfigFile(typo), /unknown setting "log-level"/);
    const nested = await yamlFile('storage:\n  filesystem:\n    rootdirectory: /x\n');
    configError(() => resolveConfig(readConfigFile(nested), {}, {}), /storage: unknown setting "filesystem"/);
  });

  it('rejects a file that is not a mapping, or not YAML', async () => {
    const list = await yamlFile('- addr: localhost:5000\n');
    configError(() => readConfigFile(list), /must be a YAML mapping/);
    const scalar = await yamlFile('just a string\n');
    configError(() => readConfigFile(scalar), /must be a YAML mapping/);
    // Unquoted [::1]:5000 is a YAML flow sequence followed by junk.
    const unquoted = await yamlFile('addr: [::1]:5000\n');
    configError(() => readConfigFile(unquoted), /cannot read config/);
  });
});

describe('ui section', () => {
  it('ui: false turns it off; a mapping sets signature keys and the session lifetime; env STOWAGE_UI', async () => {
    assert.equal(resolveConfig(readConfigFile(await yamlFile('ui: false\n')), {}, {}).ui.enabled, false);
    const c = resolveConfig(
      readConfigFile(await yamlFile('ui:\n  signature_keys: [./a.pub]\n  session_ttl_seconds: 600\n')),
      {},
      {},
    );
    assert.deepEqual(c.ui, { enabled: true, sessionTtlSeconds: 600, signatureKeys: ['./a.pub'] });
    assert.equal(resolveConfig({}, readEnv({ STOWAGE_UI: 'false' }), {}).ui.enabled, false);
    configError(() => resolveConfig({ ui: 'maybe' }, {}, {}), /ui must be true, false or a mapping/);
    configError(() => resolveConfig({ ui: { signature_keys: 'a.pub' } }, {}, {}), /signature_keys must be a list/);
    configError(
      () => resolveConfig({ ui: { session_ttl_seconds: 5 } }, {}, {}),
      /session_ttl_seconds must be an integer ≥ 60/,
    );
    configError(() => resolveConfig({ ui: { colour: 'blue' } }, {}, {}), /ui: unknown setting "colour"/);
  });
});

describe('listen address', () => {
  it('splits host:port, [v6]:port and :port', () => {
    assert.deepEqual(parseAddr('localhost:5000'), { host: 'localhost', port: 5000 });
    assert.deepEqual(parseAddr('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
    assert.deepEqual(parseAddr('0.0.0.0:65535'), { host: '0.0.0.0', port: 65535 });
    assert.deepEqual(parseAddr('[::1]:5000'), { host: '::1', port: 5000 });
    assert.deepEqual(parseAddr('[::]:443'), { host: '::', port: 443 });
    assert.deepEqual(parseAddr('[fe80::1%eth0]:5000'), { host: 'fe80::1%eth0', port: 5000 });
    assert.deepEqual(parseAddr(':5000'), { host: '', port: 5000 });
    assert.deepEqual(parseAddr('registry.example.org:5000'), { host: 'registry.example.org', port: 5000 });
  });

  it('refuses addresses without a usable port, bare IPv6 and URLs', () => {
    for (const bad of [
      'localhost',
      'localhost:',
      ':',
      '[::1]',
      '::1:5000',
      '::1',
      'host:65536',
      'host:123456',
      'host:-1',
      'host:http',
      'http://host:5000',
      '[::1:5000',
      '',
    ]) {
      assert.throws(() => parseAddr(bad), ConfigError, bad);
    }
  });

  it('knows which hosts are loopback', () => {
    for (const h of ['localhost', '127.0.0.1', '127.1.2.3', '::1']) assert.equal(isLoopback(h), true, h);
    for (const h of ['', '0.0.0.0', '::', '10.0.0.1', 'example.com', '128.0.0.1', 'localhost.example.com'])
      assert.equal(isLoopback(h), false, h);
  });
});

describe('storage section', () => {
  it('reads S3 and PostgreSQL from the file, with env merged key by key and secrets from files', async () => {
    const secretFile = join(dir, 's3-secret');
    await writeFile(secretFile, 'from-a-file\n');
    const urlFile = join(dir, 'pg-url');
    await writeFile(urlFile, 'postgres://stowage:pw@db.internal/stowage\n');
    const file = readConfigFile(
      await yamlFile(
        [
          'storage:',
          '  blobs: { driver: s3, endpoint: "http://127.0.0.1:7480", bucket: reg, access_key_id: AK, secret_access_key_file: ' +
            secretFile +
            ', path_style: true }',
          '  metadata: { driver: postgres, url_file: ' + urlFile + ', pool: 5 }',
        ].join('\n'),
      ),
    );
    const env = readEnv({ STOWAGE_S3_PREFIX: 'a/', STOWAGE_S3_REDIRECT: 'false', STOWAGE_POSTGRES_POOL: '7' });
    assert.deepEqual(resolveConfig(file, env, {}).storage, {
      blobs: {
        driver: 's3',
        endpoint: 'http://127.0.0.1:7480',
        region: 'us-east-1',
        bucket: 'reg',
        accessKeyId: 'AK',
        secretAccessKey: 'from-a-file',
        pathStyle: true,
        prefix: 'a/',
        redirect: false,
      },
      metadata: { driver: 'postgres', url: 'postgres://stowage:pw@db.internal/stowage', pool: 7 },
    });
  });

  it('is configurable from env alone', () => {
    const env = readEnv({
      STOWAGE_BLOBS_DRIVER: 's3',
      STOWAGE_S3_BUCKET: 'b',
      STOWAGE_METADATA_DRIVER: 'postgres',
      STOWAGE_POSTGRES_URL: 'postgres://x@127.0.0.1/db',
    });
    const { storage } = resolveConfig({}, env, {});
    assert.equal(storage.blobs.driver, 's3');
    assert.deepEqual(storage.metadata, { driver: 'postgres', url: 'postgres://x@127.0.0.1/db', pool: 20 });
  });

  it('refuses what cannot work, naming the setting', () => {
    const bad: Array<[unknown, RegExp]> = [
      [{ blobs: { driver: 'gcs' } }, /storage.blobs.driver must be disk or s3/],
      [{ blobs: { driver: 's3' } }, /storage.blobs.bucket is required/],
      [{ blobs: { driver: 's3', bucket: 'b', access_key_id: 'x' } }, /both access_key_id and secret_access_key/],
      [{ blobs: { driver: 's3', bucket: 'b', prefix: 'noslash' } }, /prefix must be empty or end with/],
      [
        {
          blobs: {
            driver: 's3',
            bucket: 'b',
            secret_access_key: 'a',
            secret_access_key_file: '/x',
            access_key_id: 'k',
          },
        },
        /not both/,
      ],
      [{ metadata: { driver: 'postgres' } }, /needs url/],
      [{ metadata: { driver: 'postgres', url: 'postgres://h/d', pool: 0 } }, /pool must be an integer/],
      [{ metadata: { driver: 'sqlite', url: 'x' } }, /unknown setting "url"/],
      [
        { blobs: { driver: 's3', bucket: 'b', secret_access_key_file: '/nonexistent/secret', access_key_id: 'k' } },
        /secret_access_key_file/,
      ],
    ];
    for (const [storage, message] of bad) configError(() => resolveConfig({ storage }, {}, {}), message);
  });
});
