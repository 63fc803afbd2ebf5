/**
 * Real content for the UI content tests, pushed to a running Stowage with the
 * project's own commands: a Helm chart (`stowage chart package` + `chart push`) whose
 * README tries to run script, a Flux artifact (`stowage artifact push`), an OPA
 * bundle (`stowage policy push`) and images signed with `stowage sign` by a key the
 * repository trusts and by one it does not.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { RegistryClient, parseReference, pushImage } from '../../src/client/index.js';
import { createSimpleLayout } from '../helpers/oci-fixtures.js';
import { runCli, type CliResult } from '../helpers/server.js';

export const XSS_README = [
  '# webapp',
  '',
  'A chart for the <script>alert(1)</script> tests.',
  '',
  '[click me](javascript:alert(1)) and [home](https://example.com/webapp)',
  '',
  '<img src="x" onerror="alert(2)">',
  '',
  '![logo](javascript:alert(3)) ![ok](https://example.com/logo.png)',
  '',
  '<a href="data:text/html,<script>alert(4)</script>">data</a>',
  '',
].join('\n');

export const FLUX_COMMIT = '0123456789abcdef0123456789abcdef01234567';

export interface PushedContent {
  chart: { repository: string; tag: string; versions: string[] };
  flux: { repository: string; tag: string };
  policy: { repository: string; tag: string };
  signed: { repository: string; tag: string; digest: string };
  wrongKey: { repository: string; tag: string; digest: string };
  /** Signed by `plainSigner`, in a repository no require_signatures rule names. */
  unconfigured: { repository: string; tag: string; digest: string };
  /** Never signed, beside `signed` (so the pull check refuses its content). */
  unsigned: { repository: string; tag: string; digest: string };
}

const ok = (r: CliResult, what: string) => assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stderr}\n${r.stdout}`);

/** Key pairs first (the server's config names public keys); `<work>/<name>.pub` each. */
export async function makeKeys(work: string, names: readonly string[] = ['alice', 'bob']): Promise<void> {
  for (const name of names)
    ok(
      await runCli(['key', 'generate', '--output-key-prefix', path.join(work, name)], {
        COSIGN_PASSWORD: `${name}-pw`,
      }),
      `key generate ${name}`,
    );
}

/** Pushes everything; alice signs signed/app, bob wrongkey/app, `plainSigner` plain/app. */
export async function pushContent(host: string, work: string, plainSigner = 'alice'): Promise<PushedContent> {
  const env = { DOCKER_CONFIG: path.join(work, 'docker'), HOME: work };
  await mkdir(env.DOCKER_CONFIG, { recursive: true });
  const cli = (args: string[], extra: Record<string, string> = {}) => runCli(args, { ...env, ...extra });

  // A chart in two versions, its README an XSS attempt.
  const chartDir = path.join(work, 'webapp');
  await mkdir(path.join(chartDir, 'templates'), { recursive: true });
  await writeFile(
    path.join(chartDir, 'Chart.yaml'),
    [
      'apiVersion: v2',
      'name: webapp',
      'description: A web application',
      'version: 0.1.0',
      'appVersion: "1.16.0"',
      'home: https://example.com/webapp',
      'icon: javascript:alert(1)',
      'keywords: [web, demo]',
      'maintainers:',
      '  - name: Alice',
      '    email: alice@example.com',
      'dependencies:',
      '  - name: redis',
      '    version: 17.x.x',
      '    repository: oci://registry-1.docker.io/bitnamicharts',
      '    condition: redis.enabled',
      '',
    ].join('\n'),
  );
  await writeFile(path.join(chartDir, 'values.yaml'), 'replicaCount: 2\nimage:\n  repository: nginx\n  tag: "1.25"\n');
  await writeFile(path.join(chartDir, 'README.md'), XSS_README);
  await writeFile(
    path.join(chartDir, 'templates', 'cm.yaml'),
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n',
  );
  await mkdir(path.join(chartDir, 'charts', 'redis'), { recursive: true });
  await writeFile(
    path.join(chartDir, 'charts', 'redis', 'Chart.yaml'),
    'apiVersion: v2\nname: redis\nversion: 17.0.0\n',
  );
  await writeFile(path.join(chartDir, 'charts', 'redis', 'README.md'), '# not the README of webapp\n');
  const dist = path.join(work, 'dist');
  for (const version of ['0.1.0', '0.10.0', '0.2.0']) {
    ok(await cli(['chart', 'package', chartDir, '--version', version, '-d', dist]), 'chart package');
    ok(await cli(['chart', 'push', path.join(dist, `webapp-${version}.tgz`), `oci://${host}/charts`]), 'chart push');
  }

  // A Flux artifact of a directory of manifests.
  const manifests = path.join(work, 'deploy');
  await mkdir(path.join(manifests, 'apps'), { recursive: true });
  await writeFile(path.join(manifests, 'apps', 'deployment.yaml'), 'apiVersion: apps/v1\nkind: Deployment\n');
  await writeFile(path.join(manifests, 'kustomization.yaml'), 'resources:\n  - apps/deployment.yaml\n');
  await writeFile(path.join(manifests, 'NOTES.md'), '# Notes\n\n[bad](javascript:alert(1))\n');
  ok(
    await cli([
      'artifact',
      'push',
      `oci://${host}/flux/app:v1`,
      '--path',
      manifests,
      '--source',
      'https://github.com/example/app.git',
      '--revision',
      `main@sha1:${FLUX_COMMIT}`,
    ]),
    'artifact push',
  );

  // An OPA bundle with roots, modules and data documents.
  const bundle = path.join(work, 'authz');
  await mkdir(path.join(bundle, 'authz', 'roles'), { recursive: true });
  await writeFile(path.join(bundle, '.manifest'), JSON.stringify({ roots: ['authz'] }));
  await writeFile(path.join(bundle, 'authz', 'allow.rego'), 'package authz\n\ndefault allow := false\n');
  await writeFile(path.join(bundle, 'authz', 'roles', 'data.json'), '{"admin": ["alice"]}\n');
  await writeFile(path.join(bundle, 'authz', 'roles', 'roles.rego'), 'package authz.roles\n\nx := 1\n');
  ok(
    await cli(['policy', 'push', `oci://${host}/policies/authz:1.0.0`, '--path', bundle, '--revision', 'rev-42']),
    'policy push',
  );

  // Images: signed by alice (trusted), by bob (not trusted), and in a repository with no keys.
  const client = new RegistryClient({ credentials: { get: async () => undefined } });
  const images: Record<string, string> = {};
  try {
    for (const repo of ['signed/app', 'wrongkey/app', 'plain/app', 'signed/unsigned']) {
      const layout = path.join(work, `layout-${repo.replace('/', '-')}`);
      const { image } = await createSimpleLayout(layout, { tag: 'v1', layerCount: 1 });
      const r = await pushImage(client, layout, parseReference(`${host}/${repo}:v1`));
      assert.equal(r.digest, image.digest);
      images[repo] = r.digest;
    }
  } finally {
    client.close();
  }
  const sign = async (repo: string, who: string) =>
    ok(
      await cli(['sign', `${host}/${repo}:v1`, '--key', path.join(work, `${who}.key`)], {
        COSIGN_PASSWORD: `${who}-pw`,
      }),
      `sign ${repo}`,
    );
  await sign('signed/app', 'alice');
  await sign('wrongkey/app', 'bob');
  await sign('plain/app', plainSigner);

  return {
    chart: { repository: 'charts/webapp', tag: '0.1.0', versions: ['0.10.0', '0.2.0', '0.1.0'] },
    flux: { repository: 'flux/app', tag: 'v1' },
    policy: { repository: 'policies/authz', tag: '1.0.0' },
    signed: { repository: 'signed/app', tag: 'v1', digest: images['signed/app']! },
    wrongKey: { repository: 'wrongkey/app', tag: 'v1', digest: images['wrongkey/app']! },
    unconfigured: { repository: 'plain/app', tag: 'v1', digest: images['plain/app']! },
    unsigned: { repository: 'signed/unsigned', tag: 'v1', digest: images['signed/unsigned']! },
  };
}
