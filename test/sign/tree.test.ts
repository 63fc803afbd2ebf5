/**
 * `stowage tree` and `stowage copy` all the way down: an index signed both ways, an
 * attestation that is itself signed, a cosign v2 `.att` tag, signed and attested
 * platform manifests — shown by `tree` on Stowage (referrers API) and on Debian's
 * docker-registry (referrers tag), copied Stowage → docker-registry → Stowage, and
 * still verifying at every level at the end.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  RegistryClient,
  parseReference,
  pushImage,
  type AttachedNode,
  readSigningKey,
  writeKeyPair,
} from '../../src/client/index.js';
import { generateKeyPair, signPayload, type SigningKey } from '../../src/sign/index.js';
import { startTarget, stowage, type TargetRegistry } from '../client/helpers.js';
import { createMultiArchLayout, type BuiltIndex } from '../helpers/oci-fixtures.js';
import { makeTempDir, removeDir, type RunResult } from '../helpers/tools.js';
import { attestationLayer, envelope, pushLegacyImage, statement } from './legacy-layers.js';

const LEGACY_PREDICATE = 'https://example.com/legacy-attestation/v1';

/** A tree as relation + digest (+ tag / platform), children sorted: what must survive a copy. */
type Shape = { what: string; attached: Shape[] };
function shape(n: AttachedNode): Shape {
  const what = [n.relation, n.descriptor.digest, n.tag ?? n.platform ?? ''].join(' ').trim();
  return { what, attached: n.attached.map(shape).sort((a, b) => a.what.localeCompare(b.what)) };
}

describe('stowage tree and deep copy', { timeout: 600_000 }, () => {
  let a: TargetRegistry;
  let b: TargetRegistry;
  let work: string;
  let client: RegistryClient;
  let key: SigningKey;
  let index: BuiltIndex;
  let env: Record<string, string>;
  const file = (n: string) => path.join(work, n);
  const run = (args: string[]) => stowage(args, { env });
  const ok = (r: RunResult) => {
    assert.equal(r.code, 0, `exit ${r.code}\n${r.stderr}\n${r.stdout}`);
    return r;
  };
  const json = <T>(r: RunResult): T => JSON.parse(ok(r).stdout) as T;
  const tree = async (ref: string, children = true) =>
    json<AttachedNode & { reference: string }>(
      await run(['tree', ref, '--output', 'json', ...(children ? ['--children'] : [])]),
    );
  /** The digests the chain of signing produced on the source. */
  let attestation: string;
  let amd64: string;
  let arm64: string;

  before(async () => {
    work = await makeTempDir('sign-tree');
    env = { HOME: work, DOCKER_CONFIG: work, COSIGN_PASSWORD: 'pw' };
    await writeKeyPair(file('k'), await generateKeyPair(Buffer.from('pw')));
    key = await readSigningKey(file('k.key'), Buffer.from('pw'));
    [a, b] = await Promise.all([startTarget('stowage'), startTarget('distribution')]);
    client = new RegistryClient({ credentials: { get: async () => undefined } });
    ({ index } = await createMultiArchLayout(
      file('multi'),
      [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64' },
      ],
      { tag: 'v1' },
    ));
    amd64 = index.images[0]!.digest;
    arm64 = index.images[1]!.digest;
  });
  after(async () => {
    client?.close();
    await Promise.all([a?.stop(), b?.stop()]);
    if (work) await removeDir(work);
  });

  /** Signs and attests every level of `repo` on `reg`; returns the attestation referrer's digest. */
  async function decorate(reg: TargetRegistry, repo: string): Promise<string> {
    const at = (d = '') => `${reg.host}/${repo}${d ? `@${d}` : ':v1'}`;
    await pushImage(client, file('multi'), parseReference(at()));
    ok(await run(['sign', at(), '--key', file('k.key')]));
    const att = json<{ referrer: { digest: string } }>(
      await run([
        'attest',
        at(),
        '--key',
        file('k.key'),
        '--predicate',
        file('multi/index.json'),
        '--type',
        'slsaprovenance',
        '--output',
        'json',
      ]),
    ).referrer.digest;
    ok(await run(['sign', at(att), '--key', file('k.key')])); // a signature of the attestation
    ok(await run(['sign', at(amd64), '--key', file('k.key')]));
    ok(
      await run([
        'attest',
        at(arm64),
        '--key',
        file('k.key'),
        '--predicate',
        file('multi/index.json'),
        '--type',
        'spdx',
      ]),
    );
    // cosign v2's attestation tag, key-signed.
    const env2 = envelope(statement(index.digest, LEGACY_PREDICATE, { ok: true }), (p) => signPayload(key, p));
    await pushLegacyImage(client.repository(parseReference(at())), `sha256-${index.digest.slice(7)}.att`, [
      attestationLayer(env2, LEGACY_PREDICATE),
    ]);
    return att;
  }

  /** Every level verifies in `repo` on `reg`. */
  async function verifyAll(reg: TargetRegistry, repo: string): Promise<void> {
    const at = (d: string) => `${reg.host}/${repo}@${d}`;
    const sigs = json<{ signatures: { format: string }[] }>(
      await run(['verify', at(index.digest), '--key', file('k.pub'), '--output', 'json']),
    );
    // The signature bundle, the attestation bundle (a signed statement about it too), the .sig.
    assert.deepEqual(sigs.signatures.map((s) => s.format).sort(), [
      'sigstore-bundle',
      'sigstore-bundle',
      'simple-signing',
    ]);
    ok(await run(['verify', at(index.digest), '--key', file('k.pub'), '--type', 'slsaprovenance']));
    const legacy = json<{ signatures: { format: string; predicateType: string }[] }>(
      await run(['verify', at(index.digest), '--key', file('k.pub'), '--type', LEGACY_PREDICATE, '--output', 'json']),
    );
    assert.deepEqual(
      legacy.signatures.map((s) => [s.format, s.predicateType]),
      [['cosign-attestation', LEGACY_PREDICATE]],
    );
    const attSigs = json<{ signatures: unknown[] }>(
      await run(['verify', at(attestation), '--key', file('k.pub'), '--output', 'json']),
    );
    assert.equal(attSigs.signatures.length, 2, 'the attestation is signed both ways');
    ok(await run(['verify', at(amd64), '--key', file('k.pub')]));
    ok(await run(['verify', at(arm64), '--key', file('k.pub'), '--type', 'spdx']));
  }

  it('tree shows every level on Stowage, with and without --children', async () => {
    attestation = await decorate(a, 'team/app');
    const t = await tree(`${a.host}/team/app:v1`, false);
    assert.equal(t.descriptor.digest, index.digest);
    const top = t.attached.map((n) => [n.relation, n.tag ?? n.annotations?.['dev.sigstore.bundle.predicateType']]);
    assert.deepEqual(top.sort(), [
      ['cosign-tag', `sha256-${index.digest.slice(7)}.att`],
      ['cosign-tag', `sha256-${index.digest.slice(7)}.sig`],
      ['referrer', 'https://sigstore.dev/cosign/sign/v1'],
      ['referrer', 'https://slsa.dev/provenance/v0.2'],
    ]);
    const att = t.attached.find((n) => n.descriptor.digest === attestation)!;
    assert.equal(att.via, 'api');
    assert.deepEqual(att.attached.map((n) => n.relation).sort(), ['cosign-tag', 'referrer']);
    const legacy = t.attached.find((n) => n.tag?.endsWith('.att'))!;
    assert.deepEqual(
      legacy.layers?.map((l) => l.predicateType),
      [LEGACY_PREDICATE],
    );
    assert.ok(!t.attached.some((n) => n.relation === 'child'), 'children only with --children');

    const deep = await tree(`${a.host}/team/app:v1`);
    const kids = deep.attached.filter((n) => n.relation === 'child');
    assert.deepEqual(
      kids.map((k) => [k.platform, k.descriptor.digest]),
      [
        ['linux/amd64', amd64],
        ['linux/arm64', arm64],
      ],
    );
    assert.deepEqual(kids[0]!.attached.map((n) => n.relation).sort(), ['cosign-tag', 'referrer']);
    assert.deepEqual(
      kids[1]!.attached.map((n) => n.annotations?.['dev.sigstore.bundle.predicateType']),
      ['https://spdx.dev/Document'],
    );

    const text = ok(await run(['tree', `${a.host}/team/app:v1`, '--children'])).stdout;
    assert.match(text, new RegExp(`^${a.host}/team/app:v1@${index.digest}`, 'm'));
    assert.match(text, /^├── signature \(Sigstore bundle\) {2}sha256:/m);
    assert.match(text, /attestation https:\/\/slsa\.dev\/provenance\/v0\.2 \(Sigstore bundle\)/);
    assert.match(text, /^│ {3}├── |^│ {3}└── /m);
    assert.match(text, new RegExp(`cosign attestations \\(1: ${LEGACY_PREDICATE.replace(/[./]/g, '\\$&')}\\)`));
    assert.match(text, /linux\/arm64 {2}sha256:/);
  });

  it('copy carries every level Stowage → docker-registry → Stowage, and each still verifies', async () => {
    const before = shape(await tree(`${a.host}/team/app:v1`));
    const c = json<{ attached: { referrers: string[]; tags: string[] } }>(
      await run(['copy', `${a.host}/team/app:v1`, `${b.host}/mirror/app:v1`, '--output', 'json']),
    );
    // index: signature + attestation; attestation: signature; amd64: signature; arm64: SBOM.
    assert.equal(c.attached.referrers.length, 5);
    assert.deepEqual(
      c.attached.tags.sort(),
      [
        `sha256-${amd64.slice(7)}.sig`,
        `sha256-${attestation.slice(7)}.sig`,
        `sha256-${index.digest.slice(7)}.att`,
        `sha256-${index.digest.slice(7)}.sig`,
      ].sort(),
    );
    const atB = await tree(`${b.host}/mirror/app:v1`);
    assert.deepEqual(shape(atB), before);
    assert.ok(atB.attached.filter((n) => n.relation === 'referrer').every((n) => n.via === 'tag-schema'));
    await verifyAll(b, 'mirror/app');

    ok(await run(['copy', `${b.host}/mirror/app:v1`, `${a.host}/back/app:v1`]));
    assert.deepEqual(shape(await tree(`${a.host}/back/app:v1`)), before);
    await verifyAll(a, 'back/app');
  });

  it('on docker-registry, tree reads the referrers tag', async () => {
    const t = ok(await run(['tree', `${b.host}/mirror/app@${attestation}`])).stdout;
    assert.match(t, /signature \(Sigstore bundle\) {2}sha256:[0-9a-f]{64} {2}\(referrers tag\)/);
    assert.match(t, /cosign signatures \(1\) {2}sha256-[0-9a-f]{64}\.sig → sha256:/);
    const none = ok(await run(['tree', `${b.host}/mirror/app@${arm64}`, '--output', 'text']));
    assert.match(none.stdout, /attestation https:\/\/spdx\.dev\/Document/);
  });
});
