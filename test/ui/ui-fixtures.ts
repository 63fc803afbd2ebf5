/**
 * A real `stowage serve` with token auth on and the web UI, and one of each kind
 * of content pushed with the `stowage` CLI: images, a multi-arch index, Helm
 * charts (one whose README tries to run script), a Flux artifact, an OPA bundle,
 * a cosign signature (verified against ui.signature_keys), and a public repository.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CLI, startStowage, type StowageProcess } from '../helpers/server.js';
import { makeTempDir, run } from '../helpers/tools.js';
import { createMultiArchLayout, randomLayer, writeDockerArchive } from '../helpers/oci-fixtures.js';

export const PASSWORD = 'correct horse battery staple';

export interface UiFixture {
  dir: string;
  registry: StowageProcess;
  host: string;
  /** Runs the CLI as alice (her docker config). */
  stowage(args: string[], input?: string): ReturnType<typeof run>;
}

/** The README of the chart that tries to run script in a viewer's browser. */
export const XSS_README = `# Evil chart

<script>window.__xss = 'script'; alert('script')</script>

[a javascript: link](javascript:alert('link'))

<a href="javascript:alert('raw')" id="raw-js">a raw javascript: link</a>

<img src="x" onerror="window.__xss = 'onerror'; alert('onerror')">

<iframe srcdoc="<script>parent.alert('iframe')</script>"></iframe>

<div onmouseover="alert('hover')">hover me</div>

Plain text survives.
`;

export async function startUiFixture(): Promise<UiFixture> {
  const dir = await makeTempDir('stowage-ui-');
  const data = join(dir, 'data');
  await mkdir(data, { recursive: true });
  const env = { DOCKER_CONFIG: join(dir, 'docker'), COSIGN_PASSWORD: 'cosign-pass' };
  const stowage = (args: string[], input?: string) =>
    run(process.execPath, [CLI, ...args], { env, cwd: dir, ...(input === undefined ? {} : { input }) });

  await stowage(['key', 'generate']);
  const config = join(dir, 'stowage.yaml');
  await writeFile(
    config,
    `data: ${data}
auth:
  mode: token
  htpasswd: ${data}/htpasswd
  service: stowage
  policy:
    admins: []
    public: ["library/**"]
    rules:
      - repositories: ["{user}", "{user}/**"]
        who: ["{user}"]
        actions: [pull, push, delete]
      - repositories: ["library/**"]
        who: [alice]
        actions: [pull, push, delete]
ui:
  signature_keys: [${join(dir, 'cosign.pub')}]
`,
  );
  await stowage(['user', 'add', '--config', config, 'alice', '--password-stdin'], `${PASSWORD}\n`);
  const registry = await startStowage({ dataDir: data, args: ['--config', config] });
  const host = registry.host;
  await stowage(['login', host, '-u', 'alice', '--password-stdin'], `${PASSWORD}\n`);

  // Images: one signed, one public, and a multi-arch index.
  const archive = join(dir, 'app.tar');
  await writeDockerArchive(archive, {
    layers: [randomLayer('app/bin', 8192), randomLayer('app/etc', 2048)],
    repoTags: ['app:v1'],
    config: {
      cmd: ['/app/bin/serve', '--port', '8080'],
      env: ['PATH=/usr/bin:/bin', 'MODE=production'],
      labels: { 'org.opencontainers.image.title': 'app' },
    },
  });
  await stowage(['image', 'push', archive, `${host}/alice/app:v1`]);
  await stowage(['tag', `${host}/alice/app:v1`, 'old']);
  await stowage(['sign', '--key', join(dir, 'cosign.key'), `${host}/alice/app:v1`]);
  await stowage(['image', 'push', archive, `${host}/library/public:1.0`]);
  const multi = join(dir, 'multi');
  await createMultiArchLayout(
    multi,
    [
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64', variant: 'v8' },
    ],
    { tag: 'v1' },
  );
  await stowage(['image', 'push', multi, `${host}/alice/multi:v1`]);

  // Helm charts: a plain one with a README, and the XSS one.
  await stowage(['chart', 'create', 'hello']);
  await writeFile(
    join(dir, 'hello', 'README.md'),
    '# Hello chart\n\nDeploys **hello** with `helm install`.\n\n- one\n- two\n',
  );
  await stowage(['chart', 'package', 'hello', '-d', 'charts']);
  await stowage(['chart', 'push', join('charts', 'hello-0.1.0.tgz'), `oci://${host}/alice/charts`]);
  await stowage(['chart', 'create', 'evil']);
  await writeFile(join(dir, 'evil', 'README.md'), XSS_README);
  const chartYaml = await readFile(join(dir, 'evil', 'Chart.yaml'), 'utf8');
  await writeFile(
    join(dir, 'evil', 'Chart.yaml'),
    chartYaml.replace(/^description: .*$/m, `description: "<img src=x onerror=alert('description')>"`),
  );
  await writeFile(join(dir, 'evil', 'values.yaml'), `note: "<script>alert('values')</script>"\nreplicaCount: 1\n`);
  await stowage(['chart', 'package', 'evil', '-d', 'charts']);
  await stowage(['chart', 'push', join('charts', 'evil-0.1.0.tgz'), `oci://${host}/alice/charts`]);

  // A Flux artifact: a folder of manifests with its Git source and revision.
  const gitops = join(dir, 'gitops');
  await mkdir(join(gitops, 'apps'), { recursive: true });
  await writeFile(
    join(gitops, 'apps', 'deployment.yaml'),
    'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n',
  );
  await writeFile(join(gitops, 'kustomization.yaml'), 'resources:\n  - apps/deployment.yaml\n');
  await stowage([
    'artifact',
    'push',
    `oci://${host}/alice/manifests:v1`,
    '--path',
    gitops,
    '--source',
    'https://github.com/alice/gitops',
    '--revision',
    'main@sha1:0123456789abcdef0123456789abcdef01234567',
  ]);

  // An OPA bundle.
  const bundle = join(dir, 'bundle');
  await mkdir(join(bundle, 'authz'), { recursive: true });
  await writeFile(
    join(bundle, 'authz', 'policy.rego'),
    'package authz\n\nimport rego.v1\n\ndefault allow := false\n\nallow if input.user == "alice"\n',
  );
  await writeFile(join(bundle, 'authz', 'data.json'), '{"admins": ["alice"]}\n');
  await writeFile(join(bundle, '.manifest'), '{"roots": ["authz"]}\n');
  await stowage(['policy', 'push', `oci://${host}/alice/policy:v1`, '--path', bundle, '--revision', 'r1']);

  return { dir, registry, host, stowage };
}
