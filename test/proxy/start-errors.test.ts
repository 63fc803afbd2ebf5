/**
 * `stowage serve` with a `proxy:` or `mirrors:` entry it cannot use: it exits non-zero
 * before listening, with one line on stderr naming the entry and the problem, and no
 * stack trace. Config errors (found while parsing) exit 2; files and credentials read
 * at start (password files, CA files, trusted roots) exit 1.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLI } from '../helpers/server.js';
import { makeTempDir, removeDir } from '../helpers/tools.js';

interface Outcome {
  code: number | null;
  stderr: string;
}

describe('stowage serve refuses unusable proxy: and mirrors: entries', { timeout: 120_000 }, () => {
  let work: string;
  let n = 0;

  /** Runs serve with this config; a serve that starts after all is killed (and the test fails on its exit code). */
  const serve = async (yaml: string): Promise<Outcome> => {
    const config = path.join(work, `config-${n}.yml`);
    await writeFile(config, yaml);
    const args = [CLI, 'serve', '--addr', '127.0.0.1:0', '--data', path.join(work, `data-${n++}`), '--config', config];
    return new Promise((resolve) => {
      execFile(process.execPath, args, { timeout: 30_000, killSignal: 'SIGKILL' }, (err, _stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stderr });
      });
    });
  };

  const refuses = (o: Outcome, code: number, message: RegExp) => {
    assert.equal(o.code, code, o.stderr);
    const lines = o.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, `one line on stderr, got:\n${o.stderr}`);
    assert.match(lines[0]!, message);
    assert.doesNotMatch(o.stderr, /^\s+at /m, 'no stack trace');
  };

  before(async () => {
    work = await makeTempDir('serve-start-errors');
  });
  after(async () => {
    if (work) await removeDir(work);
  });

  it('a proxy entry with a bad upstream URL (exit 2)', async () => {
    refuses(
      await serve('proxy:\n  - prefix: hub\n    upstreams: [ftp://mirror.example]\n'),
      2,
      /^stowage: proxy\[0\] \(prefix hub\): upstream ftp:\/\/mirror\.example must be http:\/\/ or https:\/\/$/,
    );
  });

  it('a proxy entry whose password file is missing (exit 1)', async () => {
    const missing = path.join(work, 'no-such-token');
    refuses(
      await serve(
        `proxy:\n  - prefix: ghcr\n    upstreams: [https://ghcr.example]\n    username: bot\n    password_file: ${missing}\n`,
      ),
      1,
      new RegExp(`^stowage: cannot start: proxy \\(prefix ghcr\\): cannot read password_file ${missing}: ENOENT`),
    );
  });

  it('a proxy entry whose password env variable is not set (exit 1)', async () => {
    refuses(
      await serve(
        'proxy:\n  - prefix: ghcr\n    upstreams: [https://ghcr.example]\n    username: bot\n    password_env: STOWAGE_TEST_UNSET_TOKEN\n',
      ),
      1,
      /^stowage: cannot start: proxy \(prefix ghcr\): the environment variable STOWAGE_TEST_UNSET_TOKEN is not set$/,
    );
  });

  it('a proxy entry whose ca_file is missing (exit 1)', async () => {
    refuses(
      await serve(`proxy:\n  - prefix: hub\n    upstreams: [https://hub.example]\n    ca_file: ${work}/no-ca.pem\n`),
      1,
      /^stowage: cannot start: proxy \(prefix hub\): cannot read the CA file .*no-ca\.pem/,
    );
  });

  it('a mirrors entry without a registry host (exit 2)', async () => {
    refuses(
      await serve('mirrors:\n  - source: library/alpine\n    interval: 1h\n'),
      2,
      /^stowage: mirrors\[0\]\.source must start with the registry's host/,
    );
  });

  it('a mirrors entry whose password file or ca_file is missing (exit 1)', async () => {
    const entry = 'mirrors:\n  - source: r.example/team/app\n    interval: 1h\n';
    refuses(
      await serve(`${entry}    username: bot\n    password_file: ${work}/no-password\n`),
      1,
      /^stowage: cannot start: mirrors \(r\.example\/team\/app\): cannot read password_file .*no-password: ENOENT/,
    );
    refuses(
      await serve(`${entry}    ca_file: ${work}/no-ca.pem\n`),
      1,
      /^stowage: cannot start: mirrors \(r\.example\/team\/app\): cannot read the CA file .*no-ca\.pem/,
    );
  });

  it('an only_signed mirrors entry whose key or trusted root is not usable (exit 1)', async () => {
    const entry = 'mirrors:\n  - source: r.example/team/app\n    interval: 1h\n    only_signed: true\n';
    const notAKey = path.join(work, 'not-a-key.pub');
    await writeFile(notAKey, 'hello\n');
    refuses(
      await serve(`${entry}    keys: [${notAKey}]\n`),
      1,
      /^stowage: cannot start: mirrors \(r\.example\/team\/app\): .*not-a-key\.pub/,
    );
    refuses(
      await serve(
        `${entry}    trusted_root: ${work}/no-root.json\n    certificate_identity: a@example.com\n    certificate_oidc_issuer: https://issuer.example\n`,
      ),
      1,
      /^stowage: cannot start: mirrors \(r\.example\/team\/app\): .*no-root\.json/,
    );
  });
});
