/**
 * `stowage artifact …` end to end, as a user runs it, against Stowage and Debian's
 * docker-registry: push (source and revision from a real git checkout) → list →
 * pull → diff → tag, reproducible digests equal across registries, and pulls that
 * refuse to write outside their directory.
 */
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { execFileSync } from 'node:child_process';
import { lstat, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RegistryClient, parseReference, pushArtifact } from '../../src/client/index.js';
import { FLUX_CONFIG_MEDIA_TYPE, FLUX_CONTENT_MEDIA_TYPE, fluxConfigBytes } from '../../src/flux/artifact.js';
import { goGzip } from '../../src/gocompat/gzip.js';
import { goTarHeader, tarPadding, TAR_TRAILER } from '../../src/gocompat/tar/writer.js';
import { startTarget, stowage, type TargetRegistry } from '../client/helpers.js';
import { makeTempDir, removeDir } from '../helpers/tools.js';
import { TREES, materialize } from './fixtures.js';

const golden = JSON.parse(
  await readFile(new URL('../../../test/flux/fixtures/golden.json', import.meta.url), 'utf8'),
) as { trees: Record<string, { digest: string; diffId: string }> };
const kustomize = TREES.find((t) => t.name === 'kustomize')!;

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@example.com',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@example.com',
      GIT_CONFIG_GLOBAL: '/dev/null',
    },
  })
    .toString()
    .trim();
}

/** Every file and directory under `dir` (relative path → mode), symlinks noted. */
async function listTree(dir: string, rel = ''): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const n of (await readdir(path.join(dir, rel))).sort()) {
    const r = rel ? `${rel}/${n}` : n;
    const s = await lstat(path.join(dir, r));
    out.set(r, s.isSymbolicLink() ? 'symlink' : `${s.isDirectory() ? 'd' : 'f'}${(s.mode & 0o777).toString(8)}`);
    if (s.isDirectory()) for (const [k, v] of await listTree(dir, r)) out.set(k, v);
  }
  return out;
}

/** A hand-made tarball (gzip) with whatever names — for the safety tests. */
function evilTarball(
  entries: { name: string; type?: 'file' | 'dir' | 'symlink'; data?: string; link?: string }[],
): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '');
    const h = goTarHeader({
      name: e.name,
      type: e.type === 'dir' ? 'dir' : 'file',
      mode: 0o644,
      size: e.type === 'file' || !e.type ? data.length : 0,
    });
    if (e.type === 'symlink') {
      h[156] = 0x32;
      h.write(e.link!, 157, 'latin1');
      h.fill(0x20, 148, 156);
      let sum = 0;
      for (const b of h) sum += b;
      h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    }
    parts.push(h);
    if (e.type !== 'dir' && e.type !== 'symlink') parts.push(data, tarPadding(data.length));
  }
  parts.push(TAR_TRAILER);
  return goGzip(Buffer.concat(parts));
}

describe('stowage artifact (flux artifacts)', { timeout: 240_000 }, () => {
  let work: string;
  let env: Record<string, string>;
  let repoDir: string;
  let source: string;
  let revision: string;
  const reproducibleDigests: Record<string, string> = {};

  before(async () => {
    work = await makeTempDir('flux-flows');
    await mkdir(path.join(work, 'docker'));
    env = { DOCKER_CONFIG: path.join(work, 'docker'), HOME: work };
    repoDir = path.join(work, 'repo');
    await mkdir(repoDir);
    git(repoDir, 'init', '-q', '-b', 'main');
    git(repoDir, 'remote', 'add', 'origin', 'https://github.com/example/app-config.git');
    await writeFile(path.join(repoDir, 'README.md'), '# app config\n');
    git(repoDir, 'add', 'README.md');
    git(repoDir, 'commit', '-q', '-m', 'initial');
    await materialize(kustomize, path.join(repoDir, 'config'));
    source = git(repoDir, 'config', '--get', 'remote.origin.url');
    revision = `${git(repoDir, 'branch', '--show-current')}@sha1:${git(repoDir, 'rev-parse', 'HEAD')}`;
    assert.match(revision, /^main@sha1:[0-9a-f]{40}$/);
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

      it('push --reproducible writes flux’s bytes: Go-identical layer, ggcr config, annotations', async () => {
        const url = `oci://${reg.host}/team/app-config:v1.0.0`;
        const r = await run(
          'artifact',
          'push',
          url,
          '--path',
          path.join(repoDir, 'config'),
          '--source',
          source,
          '--revision',
          revision,
          '--reproducible',
        );
        assert.equal(r.code, 0, r.stderr);
        const m = /^artifact successfully pushed to (\S+)@(sha256:[0-9a-f]{64})$/m.exec(r.stdout);
        assert.ok(m, r.stdout);
        assert.equal(m[1], `${reg.host}/team/app-config`);
        reproducibleDigests[name] = m[2]!;
        const repo = client.repository(parseReference(`${reg.host}/team/app-config`));
        const { bytes, descriptor } = await repo.fetchManifest('v1.0.0');
        assert.equal(descriptor.digest, m[2]);
        const man = JSON.parse(bytes.toString()) as {
          config: { mediaType: string; digest: string; size: number };
          layers: { mediaType: string; digest: string }[];
          annotations: Record<string, string>;
        };
        assert.equal(man.layers.length, 1);
        assert.equal(man.layers[0]!.mediaType, FLUX_CONTENT_MEDIA_TYPE);
        assert.equal(
          man.layers[0]!.digest,
          golden.trees['kustomize/default-ignore']!.digest,
          'the layer flux builds for this tree',
        );
        assert.equal(man.config.mediaType, FLUX_CONFIG_MEDIA_TYPE);
        const cfg = await repo.read(man.config);
        assert.ok(cfg.equals(fluxConfigBytes(golden.trees['kustomize/default-ignore']!.diffId)));
        assert.deepEqual(man.annotations, {
          'org.opencontainers.image.created': '1970-01-01T00:00:00Z',
          'org.opencontainers.image.revision': revision,
          'org.opencontainers.image.source': source,
        });
        assert.ok(
          bytes
            .toString()
            .startsWith(
              '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.cncf.flux.config.v1+json","size":233,"digest":',
            ),
        );
      });

      it('push again: same digest (reproducible), nothing uploaded; --output json like flux’s', async () => {
        const r = await run(
          'artifact',
          'push',
          `oci://${reg.host}/team/app-config:v1.0.0`,
          '--path',
          path.join(repoDir, 'config'),
          '--source',
          source,
          '--revision',
          revision,
          '--reproducible',
          '--output',
          'json',
        );
        assert.equal(r.code, 0, r.stderr);
        const doc = JSON.parse(r.stdout) as {
          url: string;
          repository: string;
          tag: string;
          digest: string;
          stats: { uploaded: number };
        };
        assert.equal(doc.digest, reproducibleDigests[name]);
        assert.equal(doc.url, `oci://${reg.host}/team/app-config@${doc.digest}`);
        assert.equal(doc.repository, `${reg.host}/team/app-config`);
        assert.equal(doc.tag, 'v1.0.0');
        assert.equal(doc.stats.uploaded, 0);
      });

      it('list: newest tag names first, cosign .sig/.att/.sbom tags left out, semver and regex filters, -o yaml', async () => {
        // flux's short flags: -f PATH, -a KEY=VALUE; --tag takes a comma-separated list as flux's does.
        const later = await run(
          'artifact',
          'push',
          `oci://${reg.host}/team/app-config:v1.1.0`,
          '-f',
          path.join(repoDir, 'config'),
          '--source',
          source,
          '--revision',
          'main@sha1:0000000000000000000000000000000000000001',
          '-a',
          'team=platform',
        );
        assert.equal(later.code, 0, later.stderr);
        const tagged = await run(
          'artifact',
          'tag',
          `oci://${reg.host}/team/app-config:v1.0.0`,
          '--tag',
          'sha256-abc.sig,sha256-abc.att',
          '--tag',
          'sha256-abc.sbom',
          '--tag',
          'v2.0.0-rc.1',
        );
        assert.equal(tagged.code, 0, tagged.stderr);
        assert.equal(tagged.stdout.split('\n').filter((l) => l.startsWith('artifact tagged as')).length, 4);
        const yamlList = parseYaml(
          (await run('artifact', 'list', `oci://${reg.host}/team/app-config`, '-o', 'yaml')).stdout,
        ) as { tag: string }[];
        assert.deepEqual(
          yamlList.map((a) => a.tag),
          ['v2.0.0-rc.1', 'v1.1.0', 'v1.0.0'],
        );
        const all = JSON.parse(
          (await run('artifact', 'list', `oci://${reg.host}/team/app-config`, '--output', 'json')).stdout,
        ) as { url: string; tag: string; digest: string; source_url: string; source_revision: string }[];
        assert.deepEqual(
          all.map((a) => a.tag),
          ['v2.0.0-rc.1', 'v1.1.0', 'v1.0.0'],
        );
        assert.equal(all[2]!.source_revision, revision);
        assert.equal(all[2]!.source_url, source);
        assert.equal(all[2]!.url, `${reg.host}/team/app-config:v1.0.0`);
        assert.equal(all[2]!.digest, reproducibleDigests[name]);
        const semver = JSON.parse(
          (
            await run(
              'artifact',
              'list',
              `oci://${reg.host}/team/app-config`,
              '--filter-semver',
              '>=1.0.0 <2.0.0',
              '--output',
              'json',
            )
          ).stdout,
        ) as { tag: string }[];
        assert.deepEqual(
          semver.map((a) => a.tag),
          ['v1.1.0', 'v1.0.0'],
        );
        const regex = JSON.parse(
          (
            await run(
              'artifact',
              'list',
              `oci://${reg.host}/team/app-config`,
              '--filter-regex',
              'rc',
              '--output',
              'json',
            )
          ).stdout,
        ) as { tag: string }[];
        assert.deepEqual(
          regex.map((a) => a.tag),
          ['v2.0.0-rc.1'],
        );
        const table = await run('artifact', 'list', `oci://${reg.host}/team/app-config`);
        assert.match(table.stdout.split('\n')[0]!, /^ARTIFACT\s+\tDIGEST\s+\tSOURCE\s+\tREVISION$/);
        assert.match(
          table.stdout,
          new RegExp(
            `${reg.host}/team/app-config:v1.0.0\\s+\\tsha256:[0-9a-f]{64}\\s+\\t${source.replace(/[.]/g, '\\.')}\\s+\\t${revision}`,
          ),
        );
      });

      it('pull -o DIR extracts the tree (ignored files absent, permissions kept); --output DIR as flux, --out DIR deprecated', async () => {
        const out = path.join(work, `pulled-${name}`);
        const r = await run('artifact', 'pull', `oci://${reg.host}/team/app-config:v1.0.0`, '-o', out);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, new RegExp(`revision ${revision}`));
        assert.match(r.stdout, new RegExp(`source ${source.replace(/[.]/g, '\\.')}`));
        const tree = await listTree(out);
        assert.deepEqual(
          [...tree.keys()],
          [
            'README.md',
            'deploy',
            'deploy/base',
            'deploy/base/deployment.yaml',
            'deploy/base/kustomization.yaml',
            'deploy/base/service.yaml',
            'deploy/overlays',
            'deploy/overlays/prod',
            'deploy/overlays/prod/kustomization.yaml',
            'deploy/overlays/prod/patch.yaml',
            'docs',
            'docs/index.md',
            'scripts',
            'scripts/render.sh',
          ],
        );
        assert.equal(tree.get('scripts/render.sh'), 'f755');
        assert.equal(tree.get('deploy/overlays/prod/patch.yaml'), 'f600');
        assert.equal(
          await readFile(path.join(out, 'deploy/base/deployment.yaml'), 'utf8'),
          await readFile(path.join(repoDir, 'config/deploy/base/deployment.yaml'), 'utf8'),
        );
        // `flux pull artifact URL --output DIR`: the long spelling names the directory too.
        const long = await run(
          'artifact',
          'pull',
          `oci://${reg.host}/team/app-config:v1.0.0`,
          '--output',
          `${out}-long`,
        );
        assert.equal(long.code, 0, long.stderr);
        assert.equal(long.stderr, '');
        assert.deepEqual([...(await listTree(`${out}-long`)).keys()], [...tree.keys()]);
        // Stowage's old spelling keeps working, with a warning on stderr; so does the old
        // format flag next to it.
        const old = await run(
          'artifact',
          'pull',
          `oci://${reg.host}/team/app-config:v1.0.0`,
          '--out',
          `${out}-old`,
          '--output',
          'json',
        );
        assert.equal(old.code, 0, old.stderr);
        assert.match(old.stderr, /warning: --out is deprecated; use -o\/--output/);
        assert.match(old.stderr, /warning: --output json \(the output format\) is deprecated/);
        assert.equal((JSON.parse(old.stdout) as { output: string }).output, `${out}-old`);
        const none = await run('artifact', 'pull', `oci://${reg.host}/team/app-config:v1.0.0`);
        assert.equal(none.code, 2);
        assert.match(none.stderr, /-o\/--output DIR/);
      });

      it('diff: exit 0 for the same tree, exit 1 with the changed names (contents, not gzip bytes)', async () => {
        const same = await run(
          'artifact',
          'diff',
          `oci://${reg.host}/team/app-config:v1.0.0`,
          '--path',
          path.join(repoDir, 'config'),
        );
        assert.equal(same.code, 0, same.stdout + same.stderr);
        assert.match(same.stdout, /no changes.*identical layer/);
        const copy = path.join(work, `pulled-${name}`);
        await writeFile(path.join(copy, 'deploy/base/service.yaml'), 'changed\n');
        await writeFile(path.join(copy, 'extra.yaml'), 'new\n');
        const changed = await run(
          'artifact',
          'diff',
          `oci://${reg.host}/team/app-config:v1.0.0`,
          '--path',
          copy,
          '--output',
          'json',
        );
        assert.equal(changed.code, 1);
        const doc = JSON.parse(changed.stdout) as {
          identical: boolean;
          added: string[];
          removed: string[];
          modified: string[];
        };
        assert.deepEqual(
          [doc.identical, doc.added, doc.removed, doc.modified],
          [false, ['extra.yaml'], [], ['deploy/base/service.yaml']],
        );
        // Same names and bytes but other permissions: the contents are the same (flux's gzip compare would differ).
        await writeFile(
          path.join(copy, 'deploy/base/service.yaml'),
          await readFile(path.join(repoDir, 'config/deploy/base/service.yaml')),
        );
        execFileSync('rm', [path.join(copy, 'extra.yaml')]);
        execFileSync('chmod', ['0640', path.join(copy, 'README.md')]);
        const modes = await run('artifact', 'diff', `oci://${reg.host}/team/app-config:v1.0.0`, '--path', copy);
        assert.equal(modes.code, 0, modes.stdout);
        assert.match(modes.stdout, /README\.md: permissions differ/);
      });

      it('tag: more tags for the same manifest', async () => {
        const r = await run(
          'artifact',
          'tag',
          `oci://${reg.host}/team/app-config:v1.0.0`,
          '--tag',
          'latest',
          '--tag',
          'stable',
        );
        assert.equal(r.code, 0, r.stderr);
        const repo = client.repository(parseReference(`${reg.host}/team/app-config`));
        for (const t of ['latest', 'stable']) assert.equal((await repo.resolve(t)).digest, reproducibleDigests[name]);
      });

      it('pull refuses names that climb out, skips symlinks, writes nothing outside', async () => {
        const push = async (tag: string, tgz: Buffer) =>
          pushArtifact(client, parseReference(`${reg.host}/team/evil:${tag}`), {
            config: { mediaType: FLUX_CONFIG_MEDIA_TYPE, bytes: Buffer.from('{}') },
            layers: [{ mediaType: FLUX_CONTENT_MEDIA_TYPE, bytes: tgz }],
          });
        await push(
          'climb',
          evilTarball([
            { name: 'ok.yaml', data: 'ok' },
            { name: 'a/../../escaped.yaml', data: 'x' },
          ]),
        );
        await push(
          'link',
          evilTarball([
            { name: 'link', type: 'symlink', link: '/etc' },
            { name: 'fine.yaml', data: 'fine' },
          ]),
        );
        const target = path.join(work, `evil-${name}`, 'out');
        const climb = await run('artifact', 'pull', `oci://${reg.host}/team/evil:climb`, '-o', target);
        assert.equal(climb.code, 1);
        assert.match(climb.stderr, /invalid name "a\/\.\.\/\.\.\/escaped\.yaml"/);
        await assert.rejects(stat(path.join(work, `evil-${name}`, 'escaped.yaml')));
        const link = await run('artifact', 'pull', `oci://${reg.host}/team/evil:link`, '-o', target);
        assert.equal(link.code, 0, link.stderr);
        assert.match(link.stderr, /skipped 1 symlink/);
        await assert.rejects(lstat(path.join(target, 'link')));
        assert.equal(await readFile(path.join(target, 'fine.yaml'), 'utf8'), 'fine');
      });

      it('errors: missing flags are usage errors (2), a missing artifact exits 1 with the tags that exist', async () => {
        const noSource = await run(
          'artifact',
          'push',
          `oci://${reg.host}/team/x:v1`,
          '--path',
          repoDir,
          '--revision',
          'r',
        );
        assert.equal(noSource.code, 2);
        assert.match(noSource.stderr, /--source/);
        const badAnn = await run(
          'artifact',
          'push',
          `oci://${reg.host}/team/x:v1`,
          '--path',
          repoDir,
          '--source',
          's',
          '--revision',
          'r',
          '--annotations',
          'a=b=c',
        );
        assert.equal(badAnn.code, 2);
        assert.match(badAnn.stderr, /key=value/);
        const missing = await run(
          'artifact',
          'pull',
          `oci://${reg.host}/team/app-config:v9`,
          '-o',
          path.join(work, 'none'),
        );
        assert.equal(missing.code, 1);
        assert.match(missing.stderr, /not found/);
        assert.match(missing.stderr, /hint: .*v1\.0\.0/);
      });
    });
  }

  it('reproducible pushes of one tree have one digest on every registry', () => {
    assert.equal(reproducibleDigests.stowage, reproducibleDigests.distribution);
  });

  it('build writes the push layer (mode 0640) to -f PATH -o FILE or --output FILE, as flux build artifact', async () => {
    const file = path.join(work, 'artifact.tgz');
    const r = await stowage(['artifact', 'build', '-f', path.join(repoDir, 'config'), '--output', file], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(golden.trees['kustomize/default-ignore']!.digest));
    assert.equal((await stat(file)).mode & 0o777, 0o640);
    // The old `-o FILE --output json` (file and format) still works, with a warning.
    const old = await stowage(
      ['artifact', 'build', '--path', path.join(repoDir, 'config'), '-o', `${file}.2`, '--output', 'json'],
      { env },
    );
    assert.equal(old.code, 0, old.stderr);
    assert.equal(
      (JSON.parse(old.stdout) as { digest: string }).digest,
      golden.trees['kustomize/default-ignore']!.digest,
    );
    assert.match(old.stderr, /deprecated/);
  });
});
