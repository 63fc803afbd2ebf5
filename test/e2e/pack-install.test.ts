/**
 * The published package, as a user gets it: `npm pack`, then `npm install -g` of
 * the tarball into a temporary prefix (dependencies from the npm registry, native
 * modules built there: `prepare` does not run for such installs, the package's
 * `install` script builds the sendfile addon). Then the installed `stowage`:
 * --version, serve with sendfile on, push and pull back. And the fallback: where no
 * compiler is found the install script says so in one line and the install goes on.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, symlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { createChart } from '../../src/chart/index.js';
import { randomLayer, readDockerArchive, writeDockerArchive } from '../helpers/oci-fixtures.js';
import { makeTempDir, removeDir, run, trackChild, which } from '../helpers/tools.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../../..');

describe('npm pack, then npm install -g of the tarball', { timeout: 900_000 }, () => {
  let work: string;
  let prefix: string;
  let pkg: string;
  let installLog: string;
  let version: string;

  before(async () => {
    work = await makeTempDir('pack-install');
    prefix = join(work, 'prefix');
    version = (JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    // --ignore-scripts: dist/ is already built (scripts/test.sh did it), and a
    // `prepare` rebuilding it here would rewrite files other test files are loading.
    assert.ok(existsSync(join(ROOT, 'dist/src/cli/main.js')), 'build first: npx tsc -p tsconfig.json');
    const packed = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', work, '--json'], {
      cwd: ROOT,
      timeoutMs: 120_000,
    });
    const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }];
    const tarball = join(work, filename);
    const installed = await run(
      'npm',
      [
        'install',
        '-g',
        '--prefix',
        prefix,
        '--foreground-scripts',
        '--no-audit',
        '--no-fund',
        '--allow-scripts=stowage,better-sqlite3',
        tarball,
      ],
      {
        cwd: work,
        timeoutMs: 840_000,
        // Only the npm registry is reachable: better-sqlite3 compiles instead of
        // asking GitHub for a prebuilt binary.
        env: { npm_config_build_from_source: 'true', npm_config_update_notifier: 'false' },
      },
    );
    installLog = `${installed.stdout}\n${installed.stderr}`;
    pkg = join(prefix, 'lib', 'node_modules', 'stowage');
  });
  after(async () => {
    if (work) await removeDir(work);
  });

  it('ships the compiled sources and the addon sources, not the tests', async () => {
    assert.ok(existsSync(join(pkg, 'dist/src/cli/main.js')));
    assert.ok(existsSync(join(pkg, 'native/sendfile.c')));
    // The web UI, built at install time: compiled scripts and the page they load into.
    assert.ok(existsSync(join(pkg, 'dist/web/main.js')));
    for (const f of ['index.html', 'app.css', 'favicon.svg']) assert.ok(existsSync(join(pkg, 'web', f)), f);
    assert.equal(existsSync(join(pkg, 'dist/test')), false, 'tests are not published');
    assert.deepEqual((await readdir(join(pkg, 'scripts'))).sort(), ['build-native.sh']);
  });

  it('built the sendfile addon during the install', () => {
    assert.match(installLog, /stowage: built native\/build\/Release\/stowage_sendfile\.node/, installLog.slice(-4000));
    assert.ok(existsSync(join(pkg, 'native/build/Release/stowage_sendfile.node')));
  });

  it('stowage --version', async () => {
    const r = await run(join(prefix, 'bin', 'stowage'), ['--version']);
    assert.equal(r.stdout.trim(), version);
  });

  it('stowage chart create writes helm’s scaffold from the templates the package ships', async () => {
    assert.ok(existsSync(join(pkg, 'assets/helm-create/templates/_helpers.tpl')));
    const installed = join(work, 'created-installed');
    await mkdir(installed);
    const r = await run(join(prefix, 'bin', 'stowage'), ['chart', 'create', 'demo'], { cwd: installed });
    assert.equal(r.code, 0, r.stderr);
    // The checkout's scaffold, byte for byte helm's (test/chart/chart.test.ts).
    await mkdir(join(work, 'created-checkout'));
    const expected = await createChart(join(work, 'created-checkout', 'demo'));
    for (const file of expected.files) {
      const rel = file.slice(expected.dir.length + 1);
      assert.deepEqual(await readFile(join(installed, 'demo', rel)), await readFile(file), rel);
    }
    assert.deepEqual(await readdir(join(installed, 'demo', 'charts')), []);
  });

  it('serves with sendfile on; push and pull back with the installed client', async () => {
    const data = join(work, 'data');
    const child = spawn(join(prefix, 'bin', 'stowage'), ['serve', '--addr', '127.0.0.1:0', '--data', data], {
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: work,
    });
    trackChild(child);
    try {
      const listening = await new Promise<{ address: string; sendfile: boolean }>((res, rej) => {
        let stderr = '';
        child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
        child.once('exit', (code) => rej(new Error(`stowage serve exited with ${code}: ${stderr}`)));
        createInterface({ input: child.stdout! }).on('line', (line) => {
          try {
            const entry = JSON.parse(line) as { msg?: string; address?: string; sendfile?: boolean };
            if (entry.msg === 'listening' && entry.address)
              res({ address: entry.address, sendfile: entry.sendfile === true });
          } catch {
            // not JSON
          }
        });
      });
      assert.equal(listening.sendfile, true, 'the installed addon loaded');
      // The installed package serves its web UI.
      const home = await fetch(`http://${listening.address}/`);
      assert.equal(home.status, 200);
      const script = /src="(\/assets\/[0-9a-f]+\/main\.js)"/.exec(await home.text())?.[1];
      assert.ok(script, 'the page loads the UI script');
      assert.equal((await fetch(`http://${listening.address}${script}`)).status, 200);
      const archive = join(work, 'smoke.tar');
      const image = await writeDockerArchive(archive, {
        layers: [randomLayer('smoke'), randomLayer('big', 300_000)],
        repoTags: ['smoke:v1'],
      });
      const stowage = (args: string[]) =>
        run(join(prefix, 'bin', 'stowage'), args, { cwd: work, env: { DOCKER_CONFIG: join(work, 'docker-config') } });
      await stowage(['image', 'push', archive, `${listening.address}/smoke/app:v1`]);
      const out = join(work, 'pulled.tar');
      await stowage(['image', 'pull', `${listening.address}/smoke/app:v1`, '-o', out]);
      const pulled = await readDockerArchive(out);
      assert.equal(pulled.configDigest, image.configDigest);
      assert.deepEqual(
        pulled.layerTars,
        image.layers.map((l) => l.tar),
      );
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('without a compiler, the install script warns in one line and succeeds', async () => {
    // The installed package's script, on a PATH with the basics but no python3, make or cc.
    const copy = join(work, 'no-compiler');
    await cp(join(pkg, 'scripts'), join(copy, 'scripts'), { recursive: true });
    await cp(join(pkg, 'native', 'binding.gyp'), join(copy, 'native', 'binding.gyp'));
    const bin = join(work, 'bare-bin');
    await mkdir(bin, { recursive: true });
    for (const tool of ['sh', 'uname', 'dirname', 'mktemp', 'rm', 'cat']) {
      const found = which(tool);
      assert.ok(found, `${tool} on PATH`);
      await symlink(found, join(bin, tool));
    }
    const r = await run(join(bin, 'sh'), [join(copy, 'scripts', 'build-native.sh')], { env: { PATH: bin } });
    assert.equal(r.code, 0);
    assert.equal(r.stdout, '');
    assert.deepEqual(r.stderr.trim().split('\n'), [
      'stowage: WARNING: the native addons were not built (missing: python3 make cc); large blob pulls will stream through user space, S3 uploads hash with hash-wasm',
    ]);
    assert.equal(existsSync(join(copy, 'native', 'build')), false);
  });
});
