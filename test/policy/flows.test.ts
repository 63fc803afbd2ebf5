/**
 * `stowage policy push|pull` against Stowage and Debian's docker-registry: the
 * manifest OPA's OCI downloader reads (shape of OPA's signed.manifest vector), the
 * bundle layer it picks, and a round trip of the bundle.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RegistryClient, parseReference } from '../../src/client/index.js';
import { OPA_BUNDLE_LAYER_MEDIA_TYPE, OPA_CONFIG_MEDIA_TYPE } from '../../src/policy/bundle.js';
import { startTarget, stowage, type TargetRegistry } from '../client/helpers.js';
import { makeTempDir, removeDir } from '../helpers/tools.js';
import { PEOPLEFINDER, writePolicyDir } from './fixtures.js';

function signedVector(): {
  config: { mediaType: string; digest: string; size: number };
  layers: { mediaType: string; annotations: Record<string, string> }[];
} {
  for (const base of [
    new URL('../../../../shared/reference/vectors/opa/', import.meta.url).pathname,
    '/work/shared/reference/vectors/opa/',
  ]) {
    const p = path.join(base, 'download-testdata-signed.manifest.json');
    if (existsSync(p)) return JSON.parse(readFileSync(p, 'utf8'));
  }
  throw new Error('OPA vector download-testdata-signed.manifest.json not found');
}

async function walk(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await walk(dir, r)));
    else out.push(r);
  }
  return out.sort();
}

describe('stowage policy (OPA bundles)', { timeout: 60_000 }, () => {
  let work: string;
  let env: Record<string, string>;
  let dir: string;
  before(async () => {
    work = await makeTempDir('policy-flows');
    await mkdir(path.join(work, 'docker'));
    env = { DOCKER_CONFIG: path.join(work, 'docker'), HOME: work };
    dir = path.join(work, 'bundle');
    await writePolicyDir(dir, PEOPLEFINDER);
  });
  after(async () => removeDir(work));

  for (const name of ['stowage', 'distribution'] as const) {
    describe(`against ${name}`, () => {
      let reg: TargetRegistry;
      let client: RegistryClient;
      const run = (...args: string[]) => stowage(args, { env });
      before(async () => {
        reg = await startTarget(name);
        client = new RegistryClient({ credentials: { get: async () => undefined } });
      });
      after(async () => {
        client?.close();
        await reg?.stop();
      });

      it('push: the manifest OPA loads — {} config, one tar+gzip layer titled bundle.tar.gz, created annotation', async () => {
        const r = await run(
          'policy',
          'push',
          `oci://${reg.host}/policies/peoplefinder:1.0.0`,
          '--path',
          dir,
          '--revision',
          'v1.0.0',
          '--output',
          'json',
        );
        assert.equal(r.code, 0, r.stderr);
        const doc = JSON.parse(r.stdout) as { digest: string; files: string[]; modules: { package: string }[] };
        assert.deepEqual(doc.files, [
          '/data.json',
          '/peoplefinder/roles/data.json',
          '/peoplefinder/authz.rego',
          '/peoplefinder/util.rego',
          '/.manifest',
        ]);
        const { bytes } = await client
          .repository(parseReference(`${reg.host}/policies/peoplefinder`))
          .fetchManifest('1.0.0');
        const m = JSON.parse(bytes.toString()) as {
          mediaType: string;
          artifactType?: string;
          config: { mediaType: string; digest: string; size: number };
          layers: { mediaType: string; annotations: Record<string, string> }[];
          annotations: Record<string, string>;
        };
        const v = signedVector();
        assert.deepEqual(m.config, v.config, 'the config of OPA’s own test manifest');
        assert.equal(m.config.mediaType, OPA_CONFIG_MEDIA_TYPE);
        assert.equal(m.layers.length, 1);
        assert.equal(m.layers[0]!.mediaType, v.layers[0]!.mediaType);
        assert.equal(m.layers[0]!.mediaType, OPA_BUNDLE_LAYER_MEDIA_TYPE);
        assert.equal(m.layers[0]!.annotations['org.opencontainers.image.title'], 'bundle.tar.gz');
        assert.match(m.annotations['org.opencontainers.image.created']!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        assert.equal(m.artifactType, undefined, 'image-spec 1.0 packing, as `oras push --config` does');
      });

      it('pull: saves the tarball and extracts it; the bundle round-trips', async () => {
        const out = path.join(work, `out-${name}`);
        const file = path.join(work, `bundle-${name}.tar.gz`);
        const r = await run(
          'policy',
          'pull',
          `oci://${reg.host}/policies/peoplefinder:1.0.0`,
          '-o',
          out,
          '--bundle-file',
          file,
        );
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /revision: v1\.0\.0/);
        assert.deepEqual(await walk(out), [
          '.manifest',
          'data.json',
          'peoplefinder/authz.rego',
          'peoplefinder/roles/data.json',
          'peoplefinder/util.rego',
        ]);
        assert.equal(
          await readFile(path.join(out, 'peoplefinder/authz.rego'), 'utf8'),
          PEOPLEFINDER['peoplefinder/authz.rego'],
        );
        assert.equal(
          await readFile(path.join(out, '.manifest'), 'utf8'),
          '{"revision":"v1.0.0","roots":["peoplefinder"]}\n',
        );
        // An `opa build` tarball pushes as it is, with the same layer digest.
        const again = await run(
          'policy',
          'push',
          `oci://${reg.host}/policies/peoplefinder:tarball`,
          '--path',
          file,
          '--output',
          'json',
        );
        assert.equal(again.code, 0, again.stderr);
        const pushed = JSON.parse(again.stdout) as { layer: { digest: string }; source: string };
        assert.equal(pushed.source, 'tarball');
        const first = JSON.parse((await run('inspect', `${reg.host}/policies/peoplefinder:1.0.0`, '--raw')).stdout) as {
          layers: { digest: string }[];
        };
        assert.equal(pushed.layer.digest, first.layers[0]!.digest);
      });

      it('errors: an invalid bundle is refused before pushing (2); a Flux artifact is not an OPA bundle (1)', async () => {
        const bad = path.join(work, 'bad');
        await writePolicyDir(bad, { '.manifest': '{"roots":["x"]}', 'y.rego': 'package y\n' });
        const r = await run('policy', 'push', `oci://${reg.host}/policies/bad:1`, '--path', bad);
        assert.equal(r.code, 2);
        assert.match(r.stderr, /do not permit 'y'/);
        const tags = await client
          .repository(parseReference(`${reg.host}/policies/bad`))
          .tags()
          .catch(() => []);
        assert.deepEqual(tags, []);
        const flux = await run(
          'artifact',
          'push',
          `oci://${reg.host}/policies/flux:1`,
          '--path',
          dir,
          '--source',
          's',
          '--revision',
          'r',
        );
        assert.equal(flux.code, 0, flux.stderr);
        const pull = await run('policy', 'pull', `oci://${reg.host}/policies/flux:1`, '-o', path.join(work, 'x'));
        assert.equal(pull.code, 1);
        assert.match(pull.stderr, /no tarball descriptor found in the layers/);
        const nowhere = await run('policy', 'pull', `oci://${reg.host}/policies/peoplefinder:1.0.0`);
        assert.equal(nowhere.code, 2);
      });
    });
  }
});
