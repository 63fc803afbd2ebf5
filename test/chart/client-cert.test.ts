/**
 * helm's registry flags, from the command line: `--cert-file/--key-file` (with
 * `--ca-file`) against a real TLS endpoint that requires a client certificate
 * (Node's https server with requestCert, in front of Stowage, certificates made by
 * openssl), on `login`, `chart push`, `pull` and `show`; and `--devel`, which lets
 * pre-releases win when no version is given, as `helm pull --devel` does.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createChart, packageChart } from '../../src/chart/index.js';
import { startInProcess, type InProcessStowage } from '../helpers/server.js';
import { makeTempDir, removeDir } from '../helpers/tools.js';
import { stowage } from '../client/helpers.js';

function openssl(cwd: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA. */
function makeCertificates(dir: string): void {
  openssl(
    dir,
    ...'req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2'.split(' '),
    '-subj',
    '/CN=test CA',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
  );
  for (const [name, ext] of [
    ['server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth'],
    ['client', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    openssl(
      dir,
      ...'req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes'.split(' '),
      '-subj',
      `/CN=${name}`,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
    );
    execFileSync('sh', ['-c', `printf '%s\\n' "$EXT" > ${name}.ext`], { cwd: dir, env: { ...process.env, EXT: ext } });
    openssl(
      dir,
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.pem`,
    );
  }
}

describe(
  'helm --cert-file/--key-file against an endpoint that requires a client certificate, and --devel',
  { timeout: 120_000 },
  () => {
    let registry: InProcessStowage;
    let front: Server;
    let host: string;
    let work: string;
    let env: Record<string, string>;
    const w = (...p: string[]) => path.join(work, ...p);
    const tls = () => ['--ca-file', w('ca.pem'), '--cert-file', w('client.pem'), '--key-file', w('client.key')];
    const presented: boolean[] = [];

    before(async () => {
      work = await makeTempDir('chart-client-cert');
      makeCertificates(work);
      registry = await startInProcess({ fsync: false });
      const upstream = new URL(registry.url);
      // Mutual TLS in front of Stowage: no verified client certificate, no TLS session.
      front = createServer(
        {
          cert: await readFile(w('server.pem')),
          key: await readFile(w('server.key')),
          ca: await readFile(w('ca.pem')),
          requestCert: true,
          rejectUnauthorized: true,
        },
        (req, res) => {
          presented.push((req.socket as TLSSocket).authorized);
          const out = httpRequest(
            { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
            (up) => {
              res.writeHead(up.statusCode ?? 502, up.headers);
              up.pipe(res);
            },
          );
          out.on('error', () => res.destroy());
          req.pipe(out);
        },
      );
      await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
      host = `127.0.0.1:${(front.address() as AddressInfo).port}`;
      await mkdir(w('docker'));
      env = { DOCKER_CONFIG: w('docker'), HOME: work, XDG_CONFIG_HOME: w('.config') };
      await mkdir(w('src'));
      await createChart(w('src', 'certs'));
      for (const version of ['1.0.0', '1.1.0-rc.1'])
        await packageChart(w('src', 'certs'), { version, destination: w('dist') });
    });
    after(async () => {
      front?.closeAllConnections();
      await new Promise<void>((r) => (front ? front.close(() => r()) : r()));
      await registry?.stop();
      if (work) await removeDir(work);
    });

    it('push, pull, show and login work with the client certificate and fail without it', async () => {
      for (const version of ['1.0.0', '1.1.0-rc.1']) {
        const pushed = await stowage(
          ['chart', 'push', w('dist', `certs-${version}.tgz`), `oci://${host}/charts`, ...tls()],
          { env },
        );
        assert.equal(pushed.code, 0, pushed.stderr);
        assert.match(pushed.stdout, new RegExp(`Pushed: ${host}/charts/certs:${version.replace(/\./g, '\\.')}`));
      }
      assert.ok(
        presented.length > 0 && presented.every((a) => a),
        'every request came with a verified client certificate',
      );

      const without = await stowage(
        ['chart', 'pull', `oci://${host}/charts/certs`, '--ca-file', w('ca.pem'), '-d', w('none')],
        { env },
      );
      assert.equal(without.code, 1, 'refused without a client certificate');
      await assert.rejects(readdir(w('none')).then((f) => (f.length ? f : Promise.reject(new Error('empty')))));

      const onlyCert = await stowage(['chart', 'pull', `oci://${host}/charts/certs`, '--cert-file', w('client.pem')], {
        env,
      });
      assert.equal(onlyCert.code, 2, onlyCert.stderr);
      assert.match(onlyCert.stderr, /--cert-file and --key-file go together/);

      const login = await stowage(['login', host, '-u', 'nobody', '--password-stdin', ...tls()], { env, input: 'x\n' });
      assert.equal(login.code, 0, login.stderr);

      const show = await stowage(['chart', 'show', 'chart', `oci://${host}/charts/certs`, ...tls()], { env });
      assert.equal(show.code, 0, show.stderr);
      assert.match(show.stdout, /^version: 1\.0\.0$/m, 'without --devel: the latest stable');
    });

    it('--devel: with no version the highest, pre-releases included; --version still wins', async () => {
      const stable = await stowage(['chart', 'pull', `oci://${host}/charts/certs`, '-d', w('stable'), ...tls()], {
        env,
      });
      assert.equal(stable.code, 0, stable.stderr);
      assert.deepEqual(await readdir(w('stable')), ['certs-1.0.0.tgz']);
      const devel = await stowage(
        ['chart', 'pull', `oci://${host}/charts/certs`, '--devel', '-d', w('devel'), ...tls()],
        { env },
      );
      assert.equal(devel.code, 0, devel.stderr);
      assert.deepEqual(await readdir(w('devel')), ['certs-1.1.0-rc.1.tgz']);
      const pinned = await stowage(
        ['chart', 'pull', `oci://${host}/charts/certs`, '--devel', '--version', '1.0.0', '-d', w('pinned'), ...tls()],
        { env },
      );
      assert.equal(pinned.code, 0, pinned.stderr);
      assert.deepEqual(await readdir(w('pinned')), ['certs-1.0.0.tgz']);
      const show = await stowage(['chart', 'show', 'chart', `oci://${host}/charts/certs`, '--devel', ...tls()], {
        env,
      });
      assert.equal(show.code, 0, show.stderr);
      assert.match(show.stdout, /^version: 1\.1\.0-rc\.1$/m);
    });
  },
);
