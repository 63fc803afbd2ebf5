/**
 * Each kind as the API reports it, for content pushed the way its tools push it —
 * through Stowage's client library (helm push, flux push artifact, OPA bundles,
 * cosign signatures and attestations, oras-style SBOMs and artifacts) and raw /v2
 * PUTs (images, indexes) — into a registry with token auth: the repository list's
 * kind filter, the tags' kind and `signed`, the summary's pull commands, and the
 * manifest's kind.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PASSWORDS, startAuthInProcess, type AuthServer } from '../auth/helpers.js';
import { RegistryClient, StaticCredentials, parseReference, pushArtifact } from '../../src/client/index.js';
import { pushChart } from '../../src/client/ops/chart-push.js';
import { pushFluxArtifact } from '../../src/client/ops/flux-artifact.js';
import { pushPolicy } from '../../src/client/ops/policy.js';
import { attestReference, signReference } from '../../src/client/ops/sign.js';
import { packageChart } from '../../src/chart/package.js';
import { adminToken, api, pushImage, pushIndex, signIn, type Browser } from './helpers.js';

describe('api kinds (content pushed by the client library and raw PUTs)', () => {
  let s: AuthServer;
  let work: string;
  let client: RegistryClient;
  let admin: Browser;
  const ref = (r: string) => parseReference(`${s.host}/${r}`);

  before(async () => {
    s = await startAuthInProcess({ mode: 'token' });
    work = await mkdtemp(join(tmpdir(), 'stowage-api-kinds-'));
    client = new RegistryClient({
      credentials: new StaticCredentials({ [s.host]: { username: 'admin', password: PASSWORDS.admin } }),
    });
    const token = await adminToken(s, ['kinds/image', 'kinds/multi']);
    await pushImage(s, token, 'kinds/image', 'v1');
    await pushIndex(s, token, 'kinds/multi', 'v1', ['linux/amd64', 'linux/arm64']);

    const chartDir = join(work, 'mychart');
    await mkdir(join(chartDir, 'templates'), { recursive: true });
    await writeFile(
      join(chartDir, 'Chart.yaml'),
      'apiVersion: v2\nname: mychart\nversion: 1.2.3+build.7\ndescription: a chart\n',
    );
    await writeFile(join(chartDir, 'values.yaml'), 'replicas: 1\n');
    const pkg = await packageChart(chartDir, { destination: work });
    await pushChart(client, pkg.file, `oci://${s.host}/kinds`);

    const manifests = join(work, 'deploy');
    await mkdir(manifests);
    await writeFile(join(manifests, 'app.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n');
    await pushFluxArtifact(client, parseReference(`${s.host}/kinds/flux:main`), {
      path: manifests,
      source: 'https://github.com/example/app',
      revision: 'main@sha1:0123456789abcdef0123456789abcdef01234567',
    });

    const policyDir = join(work, 'policy');
    await mkdir(policyDir);
    await writeFile(join(policyDir, 'authz.rego'), 'package authz\n\ndefault allow := false\n');
    await pushPolicy(client, parseReference(`${s.host}/kinds/policy:v1`), { path: policyDir });

    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const key = { privateKey, publicKey, source: 'test key' };
    await pushImage(s, await adminToken(s, ['kinds/signed']), 'kinds/signed', 'v1');
    await signReference(client, ref('kinds/signed:v1'), key);
    await attestReference(client, ref('kinds/signed:v1'), key, 'https://slsa.dev/provenance/v1', { builder: 'ci' });
    await attestReference(client, ref('kinds/signed:v1'), key, 'https://spdx.dev/Document', {
      spdxVersion: 'SPDX-2.3',
    });

    await pushArtifact(client, ref('kinds/sbom:v1'), {
      artifactType: 'application/spdx+json',
      layers: [{ mediaType: 'application/spdx+json', bytes: Buffer.from('{"spdxVersion":"SPDX-2.3"}') }],
    });
    await pushArtifact(client, ref('kinds/thing:v1'), {
      artifactType: 'application/vnd.example.thing.v1',
      layers: [{ mediaType: 'text/plain', bytes: Buffer.from('hello') }],
    });
    admin = await signIn(s, 'admin');
  });
  after(async () => {
    client?.close();
    await s?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const EXPECTED: Record<string, string> = {
    'kinds/image': 'image',
    'kinds/multi': 'index',
    'kinds/mychart': 'helm-chart',
    'kinds/flux': 'flux-artifact',
    'kinds/policy': 'opa-bundle',
    'kinds/signed': 'image',
    'kinds/sbom': 'sbom',
    'kinds/thing': 'artifact',
  };

  it('the repository list says what each holds, and filters by it', async () => {
    const res = await api(s, '/repositories?q=kinds/&limit=100', admin);
    assert.deepEqual(
      Object.fromEntries(res.json().items.map((i: { name: string; kind: string }) => [i.name, i.kind])),
      EXPECTED,
    );
    for (const [name, kind] of Object.entries(EXPECTED)) {
      const only = await api(s, `/repositories?q=kinds/&kind=${kind}`, admin);
      assert.ok(
        only.json().items.some((i: { name: string }) => i.name === name),
        `${name} under kind=${kind}`,
      );
      assert.ok(only.json().items.every((i: { kind: string }) => i.kind === kind));
    }
  });

  it('tags and manifests carry the kind; a signed image is marked signed, its signature tag is a signature', async () => {
    for (const [name, kind] of Object.entries(EXPECTED)) {
      const tags = (await api(s, `/repositories/${name}/-/tags`, admin)).json().items;
      const main = tags.find((t: { name: string }) => !t.name.endsWith('.sig'));
      assert.equal(main.kind, kind, name);
      const m = (await api(s, `/repositories/${name}/-/manifests/${main.digest}`, admin)).json();
      assert.equal(m.kind, kind, name);
    }
    const tags = (await api(s, '/repositories/kinds/signed/-/tags?sort=name', admin)).json().items;
    const v1 = tags.find((t: { name: string }) => t.name === 'v1');
    assert.equal(v1.signed, true);
    const sig = tags.find((t: { name: string }) => t.name.endsWith('.sig'));
    assert.equal(sig.kind, 'signature');
    const details = (await api(s, `/repositories/kinds/signed/-/manifests/v1`, admin)).json();
    assert.equal(details.referrers, 3, 'the signature bundle, the SLSA and the SPDX attestations');
    assert.equal((await api(s, '/repositories/kinds/image/-/tags', admin)).json().items[0].signed, false);
  });

  it('the summary gives the commands for the kind, with the registry host (Helm versions with +)', async () => {
    const commands = async (name: string) =>
      (await api(s, `/repositories/${name}/-/summary`, admin)).json().commands as { tool: string; command: string }[];
    const h = s.host;
    assert.deepEqual(await commands('kinds/mychart'), [
      { tool: 'helm', command: `helm pull oci://${h}/kinds/mychart --version 1.2.3+build.7` },
      { tool: 'stowage', command: `stowage chart pull oci://${h}/kinds/mychart --version 1.2.3+build.7` },
    ]);
    assert.deepEqual(await commands('kinds/flux'), [
      { tool: 'flux', command: `flux pull artifact oci://${h}/kinds/flux:main --output ./flux` },
      { tool: 'stowage', command: `stowage artifact pull oci://${h}/kinds/flux:main --output ./flux` },
    ]);
    assert.deepEqual(await commands('kinds/policy'), [
      { tool: 'oras', command: `oras pull ${h}/kinds/policy:v1` },
      { tool: 'stowage', command: `stowage policy pull oci://${h}/kinds/policy:v1 --output ./policy` },
    ]);
    assert.deepEqual(await commands('kinds/multi'), [
      { tool: 'docker', command: `docker pull ${h}/kinds/multi:v1` },
      { tool: 'stowage', command: `stowage image pull ${h}/kinds/multi:v1 multi.tar` },
    ]);
    // The signature tag was pushed last; the commands still name the image.
    assert.equal((await commands('kinds/signed'))[0]!.command, `docker pull ${h}/kinds/signed:v1`);
    assert.equal((await commands('kinds/thing'))[0]!.command, `oras pull ${h}/kinds/thing:v1`);
  });
});
