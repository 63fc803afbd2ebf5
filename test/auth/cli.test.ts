/**
 * `stowage user` and `stowage token`, and the documented example config
 * (examples/auth.yaml) used exactly as the README says.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CLI } from '../helpers/server.js';
import { makeTempDir, removeDir, run, trackChild, which } from '../helpers/tools.js';
import { basic, bearer, call, claimsOf, fetchToken, pushTinyImage } from './helpers.js';

const EXAMPLE = fileURLToPath(new URL('../../../examples/auth.yaml', import.meta.url));

function stowage(args: string[], o: { cwd: string; input?: string }) {
  return run(process.execPath, [CLI, ...args], {
    cwd: o.cwd,
    allowFailure: true,
    ...(o.input !== undefined ? { input: o.input } : {}),
    env: { STOWAGE_DATA: undefined },
  });
}

describe('stowage user / stowage token', () => {
  let cwd: string;
  before(async () => {
    cwd = await makeTempDir('auth-cli');
  });
  after(async () => {
    await removeDir(cwd);
  });

  it('user add --config examples/auth.yaml writes the htpasswd file that config names', async () => {
    const r = await stowage(['user', 'add', '--config', EXAMPLE, 'alice', '--password-stdin', '--cost', '4'], {
      cwd,
      input: 'alice-secret-1\n',
    });
    assert.equal(r.code, 0, r.stderr);
    const file = join(cwd, 'data', 'htpasswd');
    assert.match(await readFile(file, 'utf8'), /^alice:\$2y\$04\$[./A-Za-z0-9]{53}\n$/);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.ok(!r.stdout.includes('alice-secret-1') && !r.stderr.includes('alice-secret-1'));
  });

  it('refuses duplicates, bad names, short passwords, and a missing terminal', async () => {
    const dup = await stowage(['user', 'add', '--config', EXAMPLE, 'alice', '--password-stdin'], {
      cwd,
      input: 'whatever-123\n',
    });
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /already exists/);
    const bad = await stowage(['user', 'add', '--config', EXAMPLE, 'Alice/x', '--password-stdin'], {
      cwd,
      input: 'whatever-123\n',
    });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /invalid user name/);
    const short = await stowage(['user', 'add', '--config', EXAMPLE, 'dave', '--password-stdin'], {
      cwd,
      input: 'short\n',
    });
    assert.equal(short.code, 1);
    assert.match(short.stderr, /at least 8/);
    const noTty = await stowage(['user', 'add', '--config', EXAMPLE, 'dave'], { cwd, input: '' });
    assert.equal(noTty.code, 2);
    assert.match(noTty.stderr, /--password-stdin/);
  });

  it('asks for the password at a prompt (twice, without echo) on a terminal', async (t) => {
    if (!which('script')) return t.skip('util-linux `script` not installed');
    // `script` gives the command a pseudo-terminal; the two answers go through it.
    const cmd = `${process.execPath} ${CLI} user add --config ${EXAMPLE} --cost 4 erin`;
    const child = spawn('script', ['-qec', cmd, '/dev/null'], {
      cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, STOWAGE_DATA: '' },
    });
    trackChild(child);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const waitFor = async (re: RegExp) => {
      for (let i = 0; i < 100 && !re.test(out); i++) await new Promise((r) => setTimeout(r, 50));
      assert.match(out, re);
    };
    await waitFor(/Password: /);
    child.stdin.write('erin-password-9\r');
    await waitFor(/Repeat password: /);
    child.stdin.write('erin-password-9\r');
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    assert.equal(code, 0, out);
    assert.ok(!out.includes('erin-password-9'), 'the password is not echoed');
    assert.match(await readFile(join(cwd, 'data', 'htpasswd'), 'utf8'), /^erin:/m);
  });

  it('user passwd / list / remove', async () => {
    await stowage(['user', 'add', '--config', EXAMPLE, 'bob', '--password-stdin', '--cost', '4'], {
      cwd,
      input: 'bob-secret-22',
    });
    const before = await readFile(join(cwd, 'data', 'htpasswd'), 'utf8');
    const pw = await stowage(['user', 'passwd', '--config', EXAMPLE, 'bob', '--password-stdin', '--cost', '4'], {
      cwd,
      input: 'bob-secret-33\n',
    });
    assert.equal(pw.code, 0, pw.stderr);
    assert.notEqual(await readFile(join(cwd, 'data', 'htpasswd'), 'utf8'), before);
    assert.equal((await stowage(['user', 'list', '--config', EXAMPLE], { cwd })).stdout, 'alice\nbob\nerin\n');
    assert.equal((await stowage(['user', 'remove', '--config', EXAMPLE, 'erin'], { cwd })).code, 0);
    assert.equal((await stowage(['user', 'remove', '--config', EXAMPLE, 'erin'], { cwd })).code, 1);
    assert.equal((await stowage(['user', 'list', '--config', EXAMPLE], { cwd })).stdout, 'alice\nbob\n');
  });

  it('token create prints the token once (stdout) and stores only its hash; list and revoke', async () => {
    const c = await stowage(
      [
        'token',
        'create',
        '--config',
        EXAMPLE,
        '--user',
        'alice',
        '--scope',
        'alice/**:pull,push',
        '--expires',
        '7d',
        '--note',
        'ci',
      ],
      { cwd },
    );
    assert.equal(c.code, 0, c.stderr);
    const token = c.stdout.trim();
    assert.match(token, /^stw_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    assert.match(c.stderr, /shown only this once/);
    const id = token.slice(4, 20);
    const db = await readFile(join(cwd, 'data', 'stowage.db'));
    assert.ok(!db.includes(token.slice(21)), 'the secret is not stored');

    const list = await stowage(['token', 'list', '--config', EXAMPLE, '--json'], { cwd });
    const [entry] = JSON.parse(list.stdout);
    assert.equal(entry.id, id);
    assert.deepEqual(entry.scopes, ['alice/**:pull,push']);
    assert.equal(entry.status, 'active');
    assert.equal(entry.note, 'ci');
    assert.ok(!list.stdout.includes(token.slice(21)));
    assert.match(
      (await stowage(['token', 'list', '--config', EXAMPLE], { cwd })).stdout,
      new RegExp(`${id}\\s+alice\\s+alice/\\*\\*:pull,push`),
    );

    assert.equal((await stowage(['token', 'revoke', '--config', EXAMPLE, id], { cwd })).code, 0);
    assert.equal(
      JSON.parse((await stowage(['token', 'list', '--config', EXAMPLE, '--json'], { cwd })).stdout)[0].status,
      'revoked',
    );
    assert.equal((await stowage(['token', 'revoke', '--config', EXAMPLE, 'ffffffffffffffff'], { cwd })).code, 1);
  });

  it('token create refuses unknown users and bad scopes or durations', async () => {
    const unknown = await stowage(['token', 'create', '--config', EXAMPLE, '--user', 'zed', '--scope', 'zed/**:pull'], {
      cwd,
    });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no user "zed"/);
    const badScope = await stowage(
      ['token', 'create', '--config', EXAMPLE, '--user', 'alice', '--scope', 'alice/**:write'],
      { cwd },
    );
    assert.equal(badScope.code, 2);
    const badDur = await stowage(
      ['token', 'create', '--config', EXAMPLE, '--user', 'alice', '--scope', 'alice/**:pull', '--expires', 'soon'],
      { cwd },
    );
    assert.equal(badDur.code, 2);
    const noScope = await stowage(['token', 'create', '--config', EXAMPLE, '--user', 'alice'], { cwd });
    assert.equal(noScope.code, 2);
  });
});

describe('examples/auth.yaml as documented', () => {
  let cwd: string;
  let child: ReturnType<typeof spawn> | undefined;
  before(async () => {
    cwd = await makeTempDir('auth-example');
  });
  after(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child!.once('exit', r));
    }
    await removeDir(cwd);
  });

  it('user add, then serve --config examples/auth.yaml: each user owns NAME/… and reads nothing private of others', async () => {
    for (const [u, pw] of [
      ['alice', 'alice-secret-1'],
      ['bob', 'bob-secret-22'],
    ]) {
      const r = await stowage(['user', 'add', '--config', EXAMPLE, u!, '--password-stdin', '--cost', '4'], {
        cwd,
        input: `${pw}\n`,
      });
      assert.equal(r.code, 0, r.stderr);
    }
    const pat = (
      await stowage(['token', 'create', '--config', EXAMPLE, '--user', 'alice', '--scope', 'alice/**:pull,push'], {
        cwd,
      })
    ).stdout.trim();

    // As the README says, only the address differs (a free port for the test).
    child = spawn(process.execPath, [CLI, 'serve', '--config', EXAMPLE, '--addr', '127.0.0.1:0'], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, STOWAGE_DATA: '' },
    });
    trackChild(child);
    const host = await new Promise<string>((resolve, reject) => {
      let buf = '';
      const timer = setTimeout(() => reject(new Error(`no "listening" in 20 s: ${buf}`)), 20_000);
      child!.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        const m = /"address":"([^"]+)"[^\n]*"msg":"listening"/.exec(buf);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child!.once('exit', (code) => reject(new Error(`serve exited ${code}: ${buf}`)));
    });
    const s = { url: `http://${host}` };
    const v2 = await call(s.url, 'GET', '/v2/');
    assert.equal(v2.status, 401);
    assert.match(
      String(v2.headers['www-authenticate']),
      /^Bearer realm="http:\/\/127\.0\.0\.1:\d+\/token",service="stowage"$/,
    );

    const alice = await fetchToken(s, { user: 'alice', secret: 'alice-secret-1' }, [
      'repository:alice:pull,push,delete',
      'repository:alice/app:pull,push,delete',
    ]);
    assert.deepEqual(
      claimsOf(alice.token).access.map((a: { actions: string[] }) => a.actions),
      [
        ['pull', 'push', 'delete'],
        ['pull', 'push', 'delete'],
      ],
    );
    assert.equal(await pushTinyImage(s, 'alice/app', 'v1', bearer(alice.token)), 201);

    const bob = await fetchToken(s, { user: 'bob', secret: 'bob-secret-22' }, [
      'repository:alice/app:pull',
      'repository:bob/app:pull,push',
    ]);
    assert.deepEqual(claimsOf(bob.token).access, [{ type: 'repository', name: 'bob/app', actions: ['pull', 'push'] }]);
    assert.equal((await call(s.url, 'GET', '/v2/alice/app/manifests/v1', { headers: bearer(bob.token) })).status, 401);
    const anon = await fetchToken(s, undefined, ['repository:alice/app:pull']);
    assert.deepEqual(claimsOf(anon.token).access, []);

    const viaPat = await fetchToken(s, { user: 'alice', secret: pat }, ['repository:alice/app:pull,push,delete']);
    assert.deepEqual(claimsOf(viaPat.token).access, [
      { type: 'repository', name: 'alice/app', actions: ['pull', 'push'] },
    ]);
    assert.equal(
      (await call(s.url, 'GET', '/token?service=stowage', { headers: { Authorization: basic('alice', 'wrong-one') } }))
        .status,
      401,
    );
  });
});
