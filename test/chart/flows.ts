/**
 * Charts through a registry, from the command line as a user runs it: create →
 * package → push → pull / pull --untar / show, Helm's exact manifest for signtest,
 * a chart pushed byte for byte as Helm pushed it (raw blobs + manifest) pulled back,
 * version constraints over tags, and the errors. Run against Stowage and against
 * Debian's docker-registry by the two *.test.ts files beside this one.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createChart, packageChart, readChartArchive } from '../../src/chart/index.js';
import {
  RegistryClient,
  StaticCredentials,
  parseReference,
  pullChart,
  pushChart,
  resolveChartVersion,
} from '../../src/client/index.js';
import { makeTempDir, removeDir, requireTools } from '../helpers/tools.js';
import { startTarget, stowage, type TargetRegistry } from '../client/helpers.js';
import { SIGNTEST, vector } from './helpers.js';

const MT_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

export function defineChartFlows(targetName: TargetRegistry['name']): void {
  describe(`charts against ${targetName}`, { timeout: 60_000 }, () => {
    let target: TargetRegistry;
    let work: string;
    let env: Record<string, string>;
    let client: RegistryClient;
    const run = (...args: string[]) => stowage(args, { env });
    const w = (...p: string[]) => path.join(work, ...p);

    before(async () => {
      if (targetName === 'distribution') requireTools('docker-registry');
      target = await startTarget(targetName);
      work = await makeTempDir(`chart-flows-${targetName}`);
      await mkdir(w('docker'));
      env = { DOCKER_CONFIG: w('docker'), HOME: work, XDG_CONFIG_HOME: w('.config') };
      client = new RegistryClient({ credentials: new StaticCredentials({}) });
    });
    after(async () => {
      client?.close();
      await target?.stop();
      if (work) await removeDir(work);
    });

    it('create → package → push → pull → show from the command line, the pulled chart byte-identical', async () => {
      const created = await run('chart', 'create', w('webapp'));
      assert.equal(created.code, 0, created.stderr);
      assert.equal(created.stdout, `Creating ${w('webapp')}\n`);
      const packaged = await run('chart', 'package', w('webapp'), '-d', w('dist'));
      assert.equal(packaged.code, 0, packaged.stderr);
      assert.equal(packaged.stdout, `Successfully packaged chart and saved it to: ${w('dist', 'webapp-0.1.0.tgz')}\n`);

      const pushed = await run('chart', 'push', w('dist', 'webapp-0.1.0.tgz'), `oci://${target.host}/charts`);
      assert.equal(pushed.code, 0, pushed.stderr);
      const [pushedLine, digestLine] = pushed.stdout.trim().split('\n');
      assert.equal(pushedLine, `Pushed: ${target.host}/charts/webapp:0.1.0`);
      const digest = /^Digest: (sha256:[0-9a-f]{64})$/.exec(digestLine!)?.[1];
      assert.ok(digest, pushed.stdout);

      // What the registry holds is Helm's shape: no mediaType member, helm media types, annotations.
      const repo = client.repository(parseReference(`${target.host}/charts/webapp`, { defaultTag: null }));
      const { descriptor, bytes } = await repo.fetchManifest('0.1.0');
      assert.equal(descriptor.digest, digest);
      assert.equal(descriptor.mediaType, MT_MANIFEST);
      const doc = JSON.parse(bytes.toString()) as Record<string, unknown> & {
        config: { mediaType: string };
        layers: { mediaType: string }[];
        annotations: Record<string, string>;
      };
      assert.deepEqual(Object.keys(doc), ['schemaVersion', 'config', 'layers', 'annotations']);
      assert.equal(doc.config.mediaType, 'application/vnd.cncf.helm.config.v1+json');
      assert.deepEqual(
        doc.layers.map((l) => l.mediaType),
        ['application/vnd.cncf.helm.chart.content.v1.tar+gzip'],
      );
      assert.equal(doc.annotations['org.opencontainers.image.title'], 'webapp');
      assert.equal(doc.annotations['org.opencontainers.image.version'], '0.1.0');
      assert.match(
        doc.annotations['org.opencontainers.image.created']!,
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/,
      );

      const pulled = await run(
        'chart',
        'pull',
        `oci://${target.host}/charts/webapp`,
        '--version',
        '0.1.0',
        '-d',
        w('pulled'),
      );
      assert.equal(pulled.code, 0, pulled.stderr);
      assert.equal(pulled.stdout, `Pulled: ${target.host}/charts/webapp:0.1.0\nDigest: ${digest}\n`);
      assert.equal(pushed.stderr + pulled.stderr, '', 'nothing on stderr off a terminal');
      assert.deepEqual(await readFile(w('pulled', 'webapp-0.1.0.tgz')), await readFile(w('dist', 'webapp-0.1.0.tgz')));

      const untarred = await run(
        'chart',
        'pull',
        `oci://${target.host}/charts/webapp:0.1.0`,
        '--untar',
        '-d',
        w('expanded'),
        '--output',
        'json',
      );
      assert.equal(untarred.code, 0, untarred.stderr);
      assert.equal((JSON.parse(untarred.stdout) as { dir: string }).dir, w('expanded', 'webapp'));
      for (const f of await readChartArchive(await readFile(w('dist', 'webapp-0.1.0.tgz'))))
        assert.deepEqual(await readFile(w('expanded', 'webapp', f.name)), f.data, f.name);
      const again = await run(
        'chart',
        'pull',
        `oci://${target.host}/charts/webapp:0.1.0`,
        '--untar',
        '-d',
        w('expanded'),
      );
      assert.equal(again.code, 1);
      assert.match(again.stderr, /webapp already exists\n {2}hint: remove it, or choose another directory with -d/);

      // helm's flags: --untardir under --destination, --plain-http.
      const untardir = await run(
        'chart',
        'pull',
        `oci://${target.host}/charts/webapp:0.1.0`,
        '--untar',
        '--untardir',
        'sub',
        '-d',
        w('expanded'),
        '--plain-http',
        '--output',
        'json',
      );
      assert.equal(untardir.code, 0, untardir.stderr);
      assert.equal((JSON.parse(untardir.stdout) as { dir: string }).dir, w('expanded', 'sub', 'webapp'));

      // `helm show chart|values REF`; Stowage's old --only still works, with a warning.
      const shown = await run('chart', 'show', 'chart', `oci://${target.host}/charts/webapp`);
      assert.equal(shown.code, 0, shown.stderr);
      assert.equal(
        shown.stdout,
        'apiVersion: v2\nappVersion: 1.16.0\ndescription: A Helm chart for Kubernetes\nname: webapp\ntype: application\nversion: 0.1.0\n\n',
      );
      const values = await run('chart', 'show', 'values', `oci://${target.host}/charts/webapp`);
      assert.equal(values.stdout, `${await readFile(w('webapp', 'values.yaml'), 'utf8')}\n`);
      const old = await run('chart', 'show', `oci://${target.host}/charts/webapp`, '--only', 'values');
      assert.equal(old.stdout, values.stdout);
      assert.match(old.stderr, /warning: --only PART is deprecated; use chart show values REF/);
      const badPart = await run('chart', 'show', 'templates', `oci://${target.host}/charts/webapp`);
      assert.equal(badPart.code, 2);
      const all = await run('chart', 'show', `oci://${target.host}/charts/webapp`);
      assert.ok(all.stdout.startsWith(`${shown.stdout}---\n# Default values for webapp.`));
    });

    it('pushes signtest + prov with exactly the manifest Helm pushes (digest fbbade96…)', async () => {
      const dir = w('signtest');
      await mkdir(dir, { recursive: true });
      const { writeFile } = await import('node:fs/promises');
      await writeFile(path.join(dir, 'signtest-0.1.0.tgz'), vector('signtest-0.1.0.tgz'));
      await writeFile(path.join(dir, 'signtest-0.1.0.tgz.prov'), vector('signtest-0.1.0.tgz.prov'));
      const r = await pushChart(client, path.join(dir, 'signtest-0.1.0.tgz'), `oci://${target.host}/helm`, {
        created: SIGNTEST.created,
      });
      assert.equal(r.digest, SIGNTEST.manifestDigest);
      assert.equal(r.ref, `${target.host}/helm/signtest:0.1.0`);
      assert.equal(r.config.digest, SIGNTEST.configDigest);
      assert.equal(r.prov?.digest, SIGNTEST.provDigest);
      const repo = client.repository(parseReference(`${target.host}/helm/signtest`, { defaultTag: null }));
      assert.deepEqual((await repo.fetchManifest('0.1.0')).bytes, vector('signtest-0.1.0.manifest.json'));
    });

    it('pulls a chart pushed byte for byte as Helm pushed it (vendor blobs + manifest), with its .prov', async () => {
      const repo = client.repository(parseReference(`${target.host}/vendor/signtest`, { defaultTag: null }));
      await repo.pushBlobBytes(vector('signtest-0.1.0.config.json'), 'application/vnd.cncf.helm.config.v1+json');
      await repo.pushBlobBytes(vector('signtest-0.1.0.tgz'), 'application/vnd.cncf.helm.chart.content.v1.tar+gzip');
      await repo.pushBlobBytes(vector('signtest-0.1.0.tgz.prov'), 'application/vnd.cncf.helm.chart.provenance.v1.prov');
      const pushed = await repo.pushManifest(vector('signtest-0.1.0.manifest.json'), MT_MANIFEST, '0.1.0');
      assert.equal(pushed.descriptor.digest, SIGNTEST.manifestDigest);

      const r = await run('chart', 'pull', `oci://${target.host}/vendor/signtest`, '--prov', '-d', w('vendor'));
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `Pulled: ${target.host}/vendor/signtest:0.1.0\nDigest: ${SIGNTEST.manifestDigest}\n`);
      assert.deepEqual(await readFile(w('vendor', 'signtest-0.1.0.tgz')), vector('signtest-0.1.0.tgz'));
      assert.deepEqual(await readFile(w('vendor', 'signtest-0.1.0.tgz.prov')), vector('signtest-0.1.0.tgz.prov'));
      const shown = await run(
        'chart',
        'show',
        'chart',
        `oci://${target.host}/vendor/signtest:0.1.0`,
        '--output',
        'json',
      );
      assert.equal(
        (JSON.parse(shown.stdout) as { chartYaml: string }).chartYaml,
        'apiVersion: v1\ndescription: A Helm chart for Kubernetes\nname: signtest\nversion: 0.1.0\n',
      );
    });

    it('resolves versions as helm pull does: the highest strict-SemVer tag matching the constraint', async () => {
      const src = await createChart(w('ranges'));
      for (const v of ['0.1.0', '0.2.0', '1.0.0-rc.1', '1.0.0+build.5', '1.1.0']) {
        const p = await packageChart(src.dir, { version: v, destination: w('ranges-dist') });
        await pushChart(client, p.file, `oci://${target.host}/ranges`);
      }
      // A tag that is no chart version is ignored.
      const repo = client.repository(parseReference(`${target.host}/ranges/ranges`, { defaultTag: null }));
      const m = await repo.fetchManifest('1.1.0');
      await repo.pushManifest(m.bytes, m.descriptor.mediaType, 'latest');
      assert.deepEqual((await repo.tags()).sort(), [
        '0.1.0',
        '0.2.0',
        '1.0.0-rc.1',
        '1.0.0_build.5',
        '1.1.0',
        'latest',
      ]);

      const ref = `oci://${target.host}/ranges/ranges`;
      const tagFor = async (v?: string) => (await resolveChartVersion(client, ref, v)).tag;
      assert.equal(await tagFor(), '1.1.0');
      assert.equal(await tagFor('^0.1'), '0.1.0');
      assert.equal(await tagFor('~1.0'), '1.0.0_build.5');
      assert.equal(await tagFor('<1.0.0'), '0.2.0');
      assert.equal(await tagFor('1.0.0-rc.1'), '1.0.0-rc.1');
      assert.equal(await tagFor('>=1.0.0-0 <1.1.0'), '1.0.0_build.5');

      const r = await pullChart(client, ref, { version: '~1.0', destination: w('ranges-pulled') });
      assert.equal(path.basename(r.file!), 'ranges-1.0.0+build.5.tgz');
      assert.equal(r.ref, `${target.host}/ranges/ranges:1.0.0_build.5`);
      assert.equal(
        (await readChartArchive(await readFile(r.file!)))[0]!.data.toString().match(/^version: (.*)$/m)?.[1],
        '1.0.0+build.5',
      );

      const none = await run('chart', 'pull', ref, '--version', '>=2', '-d', w('ranges-pulled'));
      assert.equal(none.code, 1);
      assert.match(
        none.stderr,
        /no version of .*\/ranges\/ranges matches ">=2"\n {2}hint: it has: 1\.1\.0, 1\.0\.0\+build\.5, 1\.0\.0-rc\.1, 0\.2\.0, 0\.1\.0/,
      );
      const mismatch = await run('chart', 'pull', `${ref}:0.1.0`, '--version', '0.2.0');
      assert.equal(mismatch.code, 2);
      assert.match(mismatch.stderr, /chart reference and version mismatch/);
      const badRange = await run('chart', 'pull', ref, '--version', '>=>1', '--output', 'json');
      assert.equal(badRange.code, 2);
      assert.equal((JSON.parse(badRange.stdout) as { error: { code: string } }).error.code, 'CHART_CONSTRAINT_INVALID');
      assert.deepEqual((await readdir(w('ranges-pulled'))).sort(), ['ranges-1.0.0+build.5.tgz']);
    });

    it('explains what cannot be pushed or pulled', async () => {
      const dirPush = await run('chart', 'push', w('webapp'), `oci://${target.host}/charts`);
      assert.equal(dirPush.code, 2);
      assert.match(
        dirPush.stderr,
        /is a directory; only packaged charts \(\.tgz\) can be pushed\n {2}hint: package it first/,
      );

      const upper = await createChart(w('Upper'));
      const p = await packageChart(upper.dir, { destination: w('upper-dist') });
      const upperPush = await run('chart', 'push', p.file, `oci://${target.host}/charts`);
      assert.equal(upperPush.code, 2);
      assert.match(upperPush.stderr, /the chart name "Upper" is not lowercase/);

      const withTag = await run('chart', 'push', w('dist', 'webapp-0.1.0.tgz'), `oci://${target.host}/charts:1.0`);
      assert.equal(withTag.code, 2);
      assert.match(withTag.stderr, /name only the namespace/);

      // An image is not a chart.
      const repo = client.repository(parseReference(`${target.host}/images/app`, { defaultTag: null }));
      const cfg = await repo.pushBlobBytes(
        Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'),
        'application/vnd.oci.image.config.v1+json',
      );
      await repo.pushManifest(
        Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MT_MANIFEST, config: cfg, layers: [] })),
        MT_MANIFEST,
        '1.0.0',
      );
      const notChart = await run('chart', 'pull', `oci://${target.host}/images/app:1.0.0`, '-d', w('nc'));
      assert.equal(notChart.code, 1);
      assert.match(
        notChart.stderr,
        /is not a Helm chart: its config is application\/vnd\.oci\.image\.config\.v1\+json/,
      );

      const missing = await run('chart', 'pull', `oci://${target.host}/charts/nothing`, '-d', w('nc'));
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /no version of .*charts\/nothing matches a stable release/);
    });
  });
}
