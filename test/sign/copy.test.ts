/**
 * Signatures travel: `stowage copy` from Stowage (referrers API) to Debian's
 * docker-registry (no API: the referrers tag) and back carries the Sigstore bundle
 * referrer and the .sig tag, so the copy verifies at the destination; `--no-referrers`
 * leaves them behind.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RegistryClient, parseReference, pushImage, writeKeyPair } from '../../src/client/index.js';
import { generateKeyPair } from '../../src/sign/index.js';
import { stowage } from '../client/helpers.js';
import { startDistribution, type DistributionHandle } from '../helpers/distribution.js';
import { createSimpleLayout } from '../helpers/oci-fixtures.js';
import { startStowage, type StowageProcess } from '../helpers/server.js';
import { makeTempDir, removeDir, type RunResult } from '../helpers/tools.js';

describe('copy keeps signatures verifiable', { timeout: 180_000 }, () => {
  let a: StowageProcess;
  let b: DistributionHandle;
  let work: string;
  let client: RegistryClient;
  let env: Record<string, string>;
  const file = (n: string) => path.join(work, n);
  const run = (args: string[]) => stowage(args, { env });
  const ok = (r: RunResult) => assert.equal(r.code, 0, `exit ${r.code}\n${r.stderr}\n${r.stdout}`);

  before(async () => {
    work = await makeTempDir('sign-copy');
    env = { HOME: work, DOCKER_CONFIG: work, COSIGN_PASSWORD: 'pw' };
    await writeKeyPair(file('k'), await generateKeyPair(Buffer.from('pw')));
    a = await startStowage();
    b = await startDistribution();
    client = new RegistryClient({ credentials: { get: async () => undefined } });
  });
  after(async () => {
    client?.close();
    await a?.stop();
    await b?.stop();
    if (work) await removeDir(work);
  });

  it('Stowage → docker-registry → Stowage, bundle and .sig included; --no-referrers leaves them', async () => {
    await createSimpleLayout(file('img'), { tag: 'v1', layerCount: 1 });
    const { digest } = await pushImage(client, file('img'), parseReference(`${a.host}/team/app:v1`));
    ok(await run(['sign', `${a.host}/team/app:v1`, '--key', file('k.key')]));
    ok(
      await run([
        'attest',
        `${a.host}/team/app:v1`,
        '--key',
        file('k.key'),
        '--predicate',
        file('img/index.json'),
        '--type',
        'custom',
      ]),
    );

    const c = await run(['copy', `${a.host}/team/app:v1`, `${b.host}/mirror/app:v1`, '--output', 'json']);
    ok(c);
    const attached = (JSON.parse(c.stdout) as { attached: { referrers: string[]; tags: string[] } }).attached;
    assert.equal(attached.referrers.length, 2);
    assert.deepEqual(attached.tags, [`sha256-${digest.slice(7)}.sig`]);
    const atB = await run(['verify', `${b.host}/mirror/app@${digest}`, '--key', file('k.pub'), '--output', 'json']);
    ok(atB);
    assert.deepEqual(
      (JSON.parse(atB.stdout) as { signatures: { format: string }[] }).signatures.map((s) => s.format).sort(),
      ['sigstore-bundle', 'sigstore-bundle', 'simple-signing'],
    );
    ok(await run(['verify', `${b.host}/mirror/app@${digest}`, '--key', file('k.pub'), '--type', 'custom']));

    ok(await run(['copy', `${b.host}/mirror/app:v1`, `${a.host}/back/app:v1`]));
    ok(await run(['verify', `${a.host}/back/app:v1`, '--key', file('k.pub'), '--type', 'custom']));

    ok(await run(['copy', `${a.host}/team/app:v1`, `${a.host}/bare/app:v1`, '--no-referrers']));
    const bare = await run(['verify', `${a.host}/bare/app:v1`, '--key', file('k.pub')]);
    assert.equal(bare.code, 1);
    assert.match(bare.stderr, /no signatures found/);
  });
});
