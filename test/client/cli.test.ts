/**
 * The client commands as a user (or a script) meets them: exit codes 0 / 1 / 2,
 * `--output json`, errors with hints, no progress noise off a terminal, archives on
 * standard output, and the progress bars themselves on a (fake) terminal.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ProgressRenderer } from '../../src/cli/progress.js';
import { CLI, startInProcess, type InProcessStowage } from '../helpers/server.js';
import { createMultiArchLayout, readTar, type BuiltIndex } from '../helpers/oci-fixtures.js';
import { makeTempDir, removeDir } from '../helpers/tools.js';
import { stowage } from './helpers.js';

describe('stowage client commands', { timeout: 180_000 }, () => {
  let reg: InProcessStowage;
  let work: string;
  let env: Record<string, string>;
  let index: BuiltIndex;
  const run = (...args: string[]) => stowage(args, { env });

  before(async () => {
    reg = await startInProcess({ fsync: false });
    work = await makeTempDir('client-cli');
    await mkdir(path.join(work, 'docker'));
    env = { DOCKER_CONFIG: path.join(work, 'docker'), HOME: work, XDG_CONFIG_HOME: path.join(work, '.config') };
    ({ index } = await createMultiArchLayout(
      path.join(work, 'multi'),
      [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64' },
      ],
      { tag: 'v1' },
    ));
  });
  after(async () => {
    await reg?.stop();
    if (work) await removeDir(work);
  });

  it('image push: text, then --output json; quiet on stderr when it is not a terminal', async () => {
    const text = await run('image', 'push', path.join(work, 'multi'), `${reg.host}/cli/app:v1`);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`pushed v1 → ${reg.host}/cli/app:v1@${index.digest}`));
    assert.match(text.stdout, /blobs: 6 uploaded/);
    assert.equal(text.stderr, '', 'no progress bars or notes without a terminal');
    const json = await run('image', 'push', path.join(work, 'multi'), `${reg.host}/cli/app:v2`, '--output', 'json');
    const doc = JSON.parse(json.stdout) as {
      digest: string;
      stats: { existed: number; uploaded: number };
      archive: { format: string };
    };
    assert.equal(doc.digest, index.digest);
    // The platform manifests are there already, so nothing under them is even checked.
    assert.deepEqual([doc.stats.uploaded, doc.stats.existed, doc.archive.format], [0, 0, 'oci-layout']);
  });

  it('tags, catalog, tag, copy, inspect', async () => {
    assert.deepEqual((await run('tags', `${reg.host}/cli/app`)).stdout.trim().split('\n'), ['v1', 'v2']);
    assert.deepEqual(JSON.parse((await run('catalog', reg.host, '--output', 'json')).stdout), {
      registry: reg.host,
      repositories: ['cli/app'],
    });
    const tagged = await run('tag', `${reg.host}/cli/app:v1`, 'stable');
    assert.match(
      tagged.stdout,
      new RegExp(`tagged ${reg.host}/cli/app:v1 as ${reg.host}/cli/app:stable@${index.digest}`),
    );
    const copied = await run('copy', `${reg.host}/cli/app:v1`, `${reg.host}/cli/mirror`);
    assert.match(copied.stdout, /6 mounted/);
    const elsewhere = await run('tag', `${reg.host}/cli/app:v1`, `${reg.host}/cli/other:x`);
    assert.match(elsewhere.stdout, new RegExp(`copied .* → ${reg.host}/cli/other:x@`));
    const inspected = await run('inspect', `${reg.host}/cli/mirror:v1`);
    assert.match(inspected.stdout, /Media type: {2}application\/vnd\.oci\.image\.index\.v1\+json/);
    assert.match(inspected.stdout, /Platforms:\n {2}linux\/amd64 .*\n {2}linux\/arm64/);
    assert.match(inspected.stdout, /org\.opencontainers\.image\.description: stowage interop multi-arch fixture/);
    assert.match(inspected.stdout, /Referrers: {3}none/);
    const raw = await run('inspect', `${reg.host}/cli/mirror:v1`, '--raw');
    assert.equal(raw.stdout, `${index.index.toString()}\n`);
    const one = JSON.parse(
      (await run('inspect', `${reg.host}/cli/mirror:v1`, '--platform', 'linux/arm64', '--output', 'json')).stdout,
    ) as { digest: string; config: { architecture: string } };
    assert.equal(one.digest, index.images[1]!.digest);
    assert.equal(one.config.architecture, 'arm64');
  });

  it('image pull to a file and to standard output', async () => {
    const file = path.join(work, 'out', 'app.tar');
    const r = await run('image', 'pull', `${reg.host}/cli/app:v1`, '-o', file, '--format', 'oci', '--output', 'json');
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { file: string }).file, file);
    const bytes = await new Promise<Buffer>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [CLI, 'image', 'pull', `${reg.host}/cli/app:v1`, '-o', '-', '--platform', 'linux/amd64'],
        { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const chunks: Buffer[] = [];
      child.stdout.on('data', (c: Buffer) => chunks.push(c));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`exit ${code}`))));
    });
    const members = readTar(bytes).map((m) => m.path);
    assert.ok(members.includes('manifest.json') && members.includes('repositories'), members.join(' '));
    // The old `-o FILE --output json` above still printed JSON, and said it is deprecated.
    assert.match(r.stderr, /warning: --output json \(the output format\) is deprecated/);
  });

  it('image pull as docker save and crane pull write it: --output FILE, REF FILE, --format tarball', async () => {
    const docker = path.join(work, 'out', 'docker-style.tar');
    const a = await run('image', 'pull', `${reg.host}/cli/app:v1`, '--output', docker, '--platform', 'linux/amd64');
    assert.equal(a.code, 0, a.stderr);
    assert.equal(a.stderr, '');
    const crane = path.join(work, 'out', 'crane-style.tar');
    const b = await run(
      'image',
      'pull',
      `${reg.host}/cli/app:v1`,
      crane,
      '--format',
      'tarball',
      '--platform',
      'linux/amd64',
    );
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, /docker archive/);
    const old = await run(
      'image',
      'pull',
      `${reg.host}/cli/app:v1`,
      '--out',
      path.join(work, 'out', 'old.tar'),
      '--platform',
      'linux/amd64',
    );
    assert.equal(old.code, 0, old.stderr);
    assert.match(old.stderr, /warning: --out is deprecated; use -o\/--output/);
    const both = await run('image', 'pull', `${reg.host}/cli/app:v1`, crane, '-o', docker);
    assert.equal(both.code, 2);
    const none = await run('image', 'pull', `${reg.host}/cli/app:v1`);
    assert.equal(none.code, 2);
  });

  it('exit 2 for usage errors, with the reason', async () => {
    const bad = await run('inspect', `${reg.host}/CLI/App:v1`);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /repository names must be lowercase/);
    assert.equal((await run('image', 'pull', `${reg.host}/cli/app:v1`)).code, 2, 'missing -o');
    assert.equal((await run('image', 'pull', `${reg.host}/cli/app:v1`, '-o', 'x', '--format', 'zip')).code, 2);
    assert.equal((await run('tags')).code, 2);
    assert.equal((await run('image', 'pull', `${reg.host}/cli/app:v1`, '-o', 'x', '--platform', 'linux')).code, 2);
    assert.equal((await run('login', reg.host, '-u', 'a', '-p', 'b', '--password-stdin')).code, 2);
    assert.equal((await run('login', reg.host, '--password-stdin')).code, 2, 'no user name and no terminal');
    const json = await run('inspect', 'bad ref', '--output', 'json');
    assert.equal(json.code, 2);
    assert.equal((JSON.parse(json.stdout) as { error: { code: string } }).error.code, 'INVALID_REFERENCE');
  });

  it('exit 1 for failures, with what to do next', async () => {
    const missing = await run('inspect', `${reg.host}/cli/app:v9`);
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      new RegExp(`${reg.host}/cli/app:v9 not found\n {2}hint: ${reg.host}/cli/app has these tags: stable, v1, v2`),
    );
    const noRepo = await run('tags', `${reg.host}/cli/none`);
    assert.equal(noRepo.code, 1);
    assert.match(noRepo.stderr, /repository cli\/none not found/);
    const json = await run(
      'image',
      'pull',
      `${reg.host}/cli/app:v9`,
      '-o',
      path.join(work, 'never.tar'),
      '--output',
      'json',
    );
    const err = (JSON.parse(json.stdout) as { error: { code: string; hint: string } }).error;
    assert.equal(err.code, 'MANIFEST_NOT_FOUND');
    await writeFile(path.join(work, 'junk.tar'), 'junk');
    const junk = await run('image', 'push', path.join(work, 'junk.tar'), `${reg.host}/cli/junk`);
    assert.equal(junk.code, 1);
    assert.match(junk.stderr, /not a usable image archive: it is neither a tar archive nor a directory/);
    const down = await run('tags', '127.0.0.1:1/x');
    assert.match(down.stderr, /cannot reach http:\/\/127\.0\.0\.1:1.*\n {2}hint: nothing listens there/);
  });

  it('login -p warns about shell history; an open registry is saved unverified', async () => {
    const r = await run('login', reg.host, '-u', 'someone', '-p', 'secret');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /shell history/);
    assert.match(r.stderr, /does not ask for credentials/);
    assert.equal((await run('logout', reg.host)).code, 0);
  });

  it('draws progress bars on a terminal and clears them at the end', () => {
    let written = '';
    const fake = {
      isTTY: true,
      columns: 100,
      write: (s: string) => ((written += s), true),
    } as unknown as NodeJS.WriteStream;
    const p = new ProgressRenderer({ enabled: true, out: fake });
    const digest = `sha256:${'ab'.repeat(32)}`;
    p.listener({ type: 'blob', action: 'upload', state: 'start', digest, size: 2_000_000, transferred: 0 });
    p.listener({ type: 'blob', action: 'upload', state: 'progress', digest, size: 2_000_000, transferred: 1_000_000 });
    (p as unknown as { draw(): void }).draw();
    assert.match(written, /abababababab {2}uploading {3}\[=+ +\] 1\.0 MB \/ 2\.0 MB/);
    assert.match(written, /0\/1 blobs, 1\.0 MB of 2\.0 MB/);
    p.stop();
    assert.ok(written.endsWith('\x1b[2A\x1b[J'), 'ends by moving up two lines and clearing');
    const off = new ProgressRenderer({
      enabled: true,
      out: { ...fake, isTTY: false } as unknown as NodeJS.WriteStream,
    });
    off.listener({ type: 'blob', action: 'upload', state: 'start', digest, size: 1, transferred: 0 });
    off.stop();
  });
});
