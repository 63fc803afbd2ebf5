/**
 * Chart logic without a registry: Go YAML/JSON fidelity, Chart.yaml decoding and
 * lint, Masterminds constraints, .helmignore, the scaffold, and packaging — checked
 * against real Helm output (shared/reference/vectors/helm) wherever one exists.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  IgnoreRules,
  IgnoreSyntaxError,
  chartArchive,
  helmGzip,
  createChart,
  decodeChartLock,
  decodeChartYaml,
  goMatch,
  lintChartYaml,
  loadChartArchive,
  loadChartDir,
  lockYaml,
  metadataConfigJson,
  metadataYaml,
  packageChart,
  parseConstraint,
  parseStrictVersion,
  parseVersion,
  readChartArchive,
  scaffoldFiles,
  validateMetadata,
  ChartInvalidError,
  ChartLoadError,
} from '../../src/chart/index.js';
import { chartTag, helmAnnotations, helmManifest, tagVersion } from '../../src/chart/oci-manifest.js';
import { matchVersion, parseChartReference } from '../../src/client/ops/chart-version.js';
import { describeBytes } from '../../src/client/index.js';
import { makeTempDir, removeDir } from '../helpers/tools.js';
import { stowage } from '../client/helpers.js';
import { SIGNTEST, gunzip, parseHeaderListing, tarHeaders, vector, vectorText, writeTree } from './helpers.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('Chart.yaml as Helm writes it', () => {
  it('folds long lines after column 80 and sorts keys like go-yaml v2 (a real helm-packaged Chart.yaml)', () => {
    // bitnami/common 1.10.1's Chart.yaml as `helm package` wrote it (a public test fixture).
    const real = [
      'annotations:',
      '  category: Infrastructure',
      'apiVersion: v2',
      'appVersion: 1.10.0',
      'description: A Library Helm Chart for grouping common logic between bitnami charts.',
      '  This chart is not deployable by itself.',
      'home: https://github.com/bitnami/charts/tree/master/bitnami/common',
      'icon: https://bitnami.com/downloads/logos/bitnami-mark.png',
      'keywords:',
      '- common',
      '- helper',
      '- template',
      '- function',
      '- bitnami',
      'maintainers:',
      '- email: containers@bitnami.com',
      '  name: Bitnami',
      'name: common',
      'sources:',
      '- https://github.com/bitnami/charts',
      '- http://www.bitnami.com/',
      'type: library',
      'version: 1.10.1',
      '',
    ].join('\n');
    const md = decodeChartYaml(real);
    assert.equal(validateMetadata(md), undefined);
    assert.equal(metadataYaml(md), real);
  });
});

describe('Chart.yaml and Chart.lock', () => {
  it('re-serialises the vectors’ Chart.yaml exactly as Helm packaged it', async () => {
    for (const name of ['oci-dependent-chart-0.1.0.tgz', 'signtest-0.1.0.tgz']) {
      const files = await readChartArchive(vector(name));
      const chart = await loadChartArchive(vector(name));
      assert.equal(
        metadataYaml(chart.metadata),
        files.find((f) => f.name === 'Chart.yaml')!.data.toString('utf8'),
        name,
      );
    }
  });

  it('decodes like sigs.k8s.io/yaml: numbers into strings, YAML 1.1 booleans, case-insensitive fields, unknown fields dropped', () => {
    const md = decodeChartYaml(
      '# comment\napiversion: v2\nName: x\nversion: 1.10\nappVersion: 2\ndeprecated: yes\nextra: dropped\nannotations:\n  1: one\n',
    );
    assert.equal(md.apiVersion, 'v2');
    assert.equal(md.name, 'x');
    assert.equal(md.version, '1.1', 'a float through float32 formatting, as Helm does');
    assert.equal(md.appVersion, '2');
    assert.equal(md.deprecated, true);
    assert.deepEqual(md.annotations, { '1': 'one' });
    assert.equal(
      metadataYaml(md),
      'annotations:\n  "1": one\napiVersion: v2\nappVersion: "2"\ndeprecated: true\nname: x\nversion: "1.1"\n',
    );
  });

  it('leaves dependencies out of a v1 Chart.yaml but keeps them in the OCI config', () => {
    const md = decodeChartYaml(
      'apiVersion: v1\nname: old\nversion: 1.0.0\ndependencies:\n- name: dep\n  repository: https://x\n  version: ^1\n',
    );
    assert.equal(metadataYaml(md), 'apiVersion: v1\nname: old\nversion: 1.0.0\n');
    assert.equal(
      metadataConfigJson(md).toString(),
      '{"name":"old","version":"1.0.0","apiVersion":"v1","dependencies":[{"name":"dep","version":"^1","repository":"https://x"}]}',
    );
  });

  it('sanitises strings at load time and refuses what the loader refuses', () => {
    const md = decodeChartYaml('apiVersion: v2\nname: x\nversion: 1.0.0\ndescription: "a\\tb\\u0007c"\n');
    assert.equal(validateMetadata(md), undefined);
    assert.equal(md.description, 'a bc');
    const bad = (y: string) => validateMetadata(decodeChartYaml(y));
    assert.equal(bad('name: x\nversion: 1.0.0\n'), 'chart.metadata.apiVersion is required');
    assert.equal(bad('apiVersion: v2\nname: a/b\nversion: 1.0.0\n'), 'chart.metadata.name "a/b" is invalid');
    assert.equal(bad('apiVersion: v2\nname: x\nversion: one\n'), 'chart.metadata.version "one" is invalid');
    assert.equal(
      bad('apiVersion: v2\nname: x\nversion: 1.0.0\ntype: app\n'),
      'chart.metadata.type must be application or library',
    );
    assert.equal(
      bad('apiVersion: v2\nname: x\nversion: 1.0.0\ndependencies:\n- name: a\n- name: b\n  alias: a\n'),
      'more than one dependency with name or alias "a"',
    );
    assert.equal(
      bad('apiVersion: v2\nname: x\nversion: 1.0.0\ndependencies:\n- name: a\n  alias: "a b"\n'),
      'dependency "a" has disallowed characters in the alias',
    );
  });

  it('writes the OCI config byte for byte as Helm (signtest vector) and escapes like encoding/json', async () => {
    const chart = await loadChartArchive(vector('signtest-0.1.0.tgz'));
    const config = metadataConfigJson(chart.metadata);
    assert.deepEqual(config, vector('signtest-0.1.0.config.json'));
    assert.equal(`sha256:${sha256(config)}`, SIGNTEST.configDigest);
    const md = decodeChartYaml('apiVersion: v2\nname: x\nversion: 1.0.0\ndescription: "<b> & co"\n');
    assert.equal(
      metadataConfigJson(md).toString(),
      '{"name":"x","version":"1.0.0","description":"\\u003cb\\u003e \\u0026 co","apiVersion":"v2"}',
    );
  });

  it('re-serialises Chart.lock as Helm does (sorted keys, RFC 3339 nano, quoted)', () => {
    const lock = decodeChartLock(
      'dependencies:\n- name: common\n  repository: oci://r/charts\n  version: 2.0.0\ndigest: sha256:abc\ngenerated: "2024-01-02T03:04:05.120000+02:00"\n',
    );
    assert.equal(
      lockYaml(lock),
      'dependencies:\n- name: common\n  repository: oci://r/charts\n  version: 2.0.0\ndigest: sha256:abc\ngenerated: "2024-01-02T03:04:05.12+02:00"\n',
    );
  });
});

describe('helm lint rules for Chart.yaml', () => {
  const errors = (y: string | undefined) =>
    lintChartYaml(y)
      .filter((m) => m.severity === 'error')
      .map((m) => m.message);
  it('accepts the scaffold with only "icon is recommended"', async () => {
    const msgs = lintChartYaml((await scaffoldFiles('good')).find((f) => f.path === 'Chart.yaml')!.content.toString());
    assert.deepEqual(
      msgs.map((m) => `${m.severity}: ${m.message}`),
      ['info: icon is recommended'],
    );
  });
  it('reports Helm’s errors, each with a hint', () => {
    assert.deepEqual(errors(undefined), ['Chart.yaml file is missing']);
    assert.deepEqual(errors('name: x\nversion: 1.0.0\n'), [
      'apiVersion is required. The value must be either "v1" or "v2"',
    ]);
    assert.deepEqual(errors('apiVersion: v3\nname: x\nversion: 1.0.0\n'), [
      `apiVersion 'v3' is not valid. The value must be either "v1" or "v2"`,
    ]);
    assert.deepEqual(errors('apiVersion: v2\nname: x\nversion: 1.0\nappVersion: 2\n'), [
      "version should be of type string but it's of type float64",
      "appVersion should be of type string but it's of type float64",
    ]);
    assert.deepEqual(errors('apiVersion: v2\nname: x\nversion: one\n'), ["version 'one' is not a valid SemVer"]);
    assert.deepEqual(errors('apiVersion: v2\nversion: 1.0.0\n'), ['name is required']);
    assert.deepEqual(
      errors('apiVersion: v2\nname: x\nversion: 1.0.0\nmaintainers:\n- name: me\n  email: not-an-email\n'),
      ["invalid email 'not-an-email' for maintainer 'me'"],
    );
    assert.deepEqual(errors('apiVersion: v2\nname: x\nversion: 1.0.0\nsources:\n- github.com/x\n'), [
      "invalid source URL 'github.com/x'",
    ]);
    assert.deepEqual(errors('apiVersion: v1\nname: x\nversion: 1.0.0\ntype: library\ndependencies:\n- name: d\n'), [
      "chart type is not valid in apiVersion 'v1'. It is valid in apiVersion 'v2'",
      "dependencies are not valid in the Chart file with apiVersion 'v1'. They are valid in apiVersion 'v2'",
    ]);
    assert.match(errors('apiVersion: v2\nname: [x\n')[0]!, /^unable to parse YAML/);
    for (const m of lintChartYaml('apiVersion: v2\nname: x\nversion: 1.0\n').filter((x) => x.severity === 'error'))
      assert.ok(m.hint, m.message);
    assert.equal(
      lintChartYaml('apiVersion: v2\nname: x\nversion: 1.0\n').find((m) => m.message.startsWith('version should'))!
        .hint,
      'quote it in Chart.yaml: version: "1.0"',
    );
  });
  it('warns about unknown fields and versions that are not strict SemVer 2', () => {
    const warnings = lintChartYaml('apiVersion: v2\nname: x\nversion: 1.2\nverison: 1.0.0\n')
      .filter((m) => m.severity === 'warning')
      .map((m) => m.message);
    assert.deepEqual(warnings, [
      'failed to strictly parse chart metadata file: unknown field "verison"',
      "version '1.2' is not a valid SemVerV2",
    ]);
  });
});

describe('Masterminds versions and constraints (helm pull --version)', () => {
  const tags = ['2.0.0', '1.5.0', '1.4.2', '1.4.0-rc.1', '1.2.3+build.7', '1.2.3', '0.9.0'];
  const cases: [string, string | undefined][] = [
    ['', '2.0.0'],
    ['*', '2.0.0'],
    ['^1.2', '1.5.0'],
    ['~1.4', '1.4.2'],
    ['>=1 <1.5', '1.4.2'],
    ['>=1.0.0, <1.4.0', '1.2.3+build.7'],
    ['1.x', '1.5.0'],
    ['=1.4', '1.4.2'],
    ['1.2.3 - 1.4.2', '1.4.2'],
    ['^0.9', '0.9.0'],
    ['!=2.0.0', '1.5.0'],
    ['>1.4', '2.0.0'],
    ['<1 || >=2', '2.0.0'],
    ['1.4.0-rc.1', '1.4.0-rc.1'],
    ['>=1.4.0-0', '2.0.0'],
    // Masterminds: "<1.4.2" names no prerelease, so it refuses 1.4.0-rc.1 (node-semver would take it).
    ['>=1.4.0-0 <1.4.1', undefined],
    ['^3', undefined],
  ];
  for (const [constraint, want] of cases) {
    it(`"${constraint}" → ${want ?? 'nothing'}`, () => assert.equal(matchVersion(tags, constraint), want));
  }
  it('parses loose and strict versions as Helm does', () => {
    assert.equal(parseVersion('v1.2').minor, 2n);
    assert.throws(() => parseStrictVersion('v1.2.3'));
    assert.throws(() => parseStrictVersion('1.2'));
    assert.throws(() => parseStrictVersion('01.2.3'));
    assert.equal(parseStrictVersion('1.2.3-rc.1+b.2').pre, 'rc.1');
    assert.throws(() => parseConstraint('>=>1'));
  });
  it('maps versions to tags and back ("+" ↔ "_"), reading "+" in a reference tag as "_"', () => {
    assert.equal(chartTag('1.2.3+build.7'), '1.2.3_build.7');
    assert.equal(tagVersion('1.2.3_build.7'), '1.2.3+build.7');
    assert.deepEqual(parseChartReference('oci://localhost:5000/ns/app:1.0.0+b'), {
      registry: 'localhost:5000',
      repository: 'ns/app',
      tag: '1.0.0_b',
    });
  });
});

describe('.helmignore', () => {
  it('matches with Go filepath.Match', () => {
    assert.ok(goMatch('*.txt', 'a.txt'));
    assert.ok(!goMatch('*.txt', 'd/a.txt'));
    assert.ok(goMatch('[a-c]?', 'b1'));
    assert.ok(goMatch('[^a]x', 'bx'));
    assert.ok(goMatch('\\*', '*'));
    assert.ok(!goMatch('a?', 'a/'));
    assert.throws(() => goMatch('[', 'a'));
  });
  it('has Helm’s semantics: base names, anchored paths, directories only, negation that is not a re-include', () => {
    const r = IgnoreRules.parse('# comment\n  *.bak  \nsecret/\n/top.txt\ndocs/*.md\n').withDefaults();
    assert.ok(r.ignores('a/b/c.bak', false));
    assert.ok(r.ignores('secret', true));
    assert.ok(!r.ignores('secret', false), 'a trailing / only matches directories');
    assert.ok(r.ignores('top.txt', false));
    assert.ok(!r.ignores('sub/top.txt', false));
    assert.ok(r.ignores('docs/a.md', false));
    assert.ok(!r.ignores('docs/x/a.md', false));
    assert.ok(r.ignores('templates/.hidden', false), 'the default rule');
    assert.ok(!r.ignores('templates/x.yaml', false));
    const neg = IgnoreRules.parse('!keep.txt\n');
    assert.ok(!neg.ignores('keep.txt', false));
    assert.ok(neg.ignores('other.txt', false), '!pattern ignores everything else');
    assert.throws(
      () => IgnoreRules.parse('a/**/b\n'),
      (e: unknown) => e instanceof IgnoreSyntaxError && e.line === 1 && /double-star/.test(e.message),
    );
    assert.throws(
      () => IgnoreRules.parse('ok\n[\n'),
      (e: unknown) => e instanceof IgnoreSyntaxError && e.line === 2,
    );
  });
});

describe('helm create', () => {
  let work: string;
  before(async () => {
    work = await makeTempDir('chart-create');
  });
  after(async () => removeDir(work));

  it('writes helm’s scaffold byte for byte', async () => {
    const r = await createChart(path.join(work, 'mychart'));
    const rel = r.files.map((f) => path.relative(r.dir, f));
    assert.deepEqual(rel, [
      'Chart.yaml',
      'values.yaml',
      '.helmignore',
      'templates/ingress.yaml',
      'templates/httproute.yaml',
      'templates/deployment.yaml',
      'templates/service.yaml',
      'templates/serviceaccount.yaml',
      'templates/hpa.yaml',
      'templates/NOTES.txt',
      'templates/_helpers.tpl',
      'templates/tests/test-connection.yaml',
    ]);
    const digests: Record<string, string> = {};
    for (const f of rel) digests[f] = sha256(await readFile(path.join(r.dir, f)));
    assert.deepEqual(digests, {
      'Chart.yaml': 'ee85daa504a8a7e43ddbe072bc9305b63a1609c4cc0b2c7a262d73913e4b3c60',
      'values.yaml': 'b66f94c8d0b8fd09b1fff7375b8d8f81e61d8e512ee2d9dfa02ccb6664796551',
      '.helmignore': 'bb987e6a8ef45a99255d1d632812482d5f0f3255ea841520b4d90342df5fe2b3',
      'templates/ingress.yaml': '90a479b012f49d1c45329958eab8cc0e23d2f895ae5f495a05cc49ef247c806e',
      'templates/httproute.yaml': '74f0074b491eae2ef8dc4dd716ec6470719ca5f7c75f37e21956434d80ac67d2',
      'templates/deployment.yaml': '525dcf57259cca4ce2d4039cc154165a6a0a0644570825f14bee151cac2d126b',
      'templates/service.yaml': '648e24640e8f4802c38c6c6d406cb89b27fadc5b6491ed9de0a60bc4659f1336',
      'templates/serviceaccount.yaml': '0710c8f5f98d21dfa54450c2ca7c37d5db460f5d4d52d2951abf4b82dc4607ff',
      'templates/hpa.yaml': '6381a8fe4ce04b1deaf46f7362d4faab64d1769729f9aa47b59b37a404e19bff',
      'templates/NOTES.txt': '990f50c08eca2cf2f86fc2bc822dbf65c66f1b63ec0dc2a40f8dcb4862004907',
      'templates/_helpers.tpl': '546ee1e34174b8c820eb10bc4bf8336d8d0070f22be927508b77e5e2edb80cc4',
      'templates/tests/test-connection.yaml': 'a5492f475a5e30466e0610d3479e6d86e20664570ac75985d69c6d670728792e',
    });
    for (const f of rel) {
      const text = await readFile(path.join(r.dir, f), 'utf8');
      assert.ok(!text.includes('<CHARTNAME>') && !text.includes('%s.') && !text.includes('name: %s'), f);
      assert.equal((await stat(path.join(r.dir, f))).mode & 0o777 & ~0o022, 0o644 & ~0o022);
    }
    assert.deepEqual(await readdir(path.join(r.dir, 'charts')), []);
    assert.match(await readFile(path.join(r.dir, 'Chart.yaml'), 'utf8'), /^apiVersion: v2\nname: mychart\n/);
    assert.match(await readFile(path.join(r.dir, 'templates/_helpers.tpl'), 'utf8'), /define "mychart.fullname"/);
  });

  it('matches the files real `helm create` output holds (the oci-dependent-chart vector) where Helm has not changed them', async () => {
    const mine = new Map((await scaffoldFiles('oci-dependent-chart')).map((f) => [f.path, f.content]));
    const real = new Map(
      (await readChartArchive(vector('oci-dependent-chart-0.1.0.tgz'))).map((f) => [f.name, f.data]),
    );
    for (const p of ['.helmignore', 'templates/service.yaml', 'templates/tests/test-connection.yaml'])
      assert.deepEqual(mine.get(p), real.get(p), p);
    // helm create v4.2.4's values.yaml for "demo" is 5270 characters (a verbatim public copy).
    assert.equal((await scaffoldFiles('demo')).find((f) => f.path === 'values.yaml')!.content.length, 5270);
  });

  it('refuses names helm refuses, and overwrites existing files with a warning', async () => {
    await assert.rejects(createChart(path.join(work, 'bad name')), /must match the regular expression/);
    await assert.rejects(createChart(path.join(work, 'x'.repeat(251))), /between 1 and 250/);
    await assert.rejects(createChart(path.join(work, 'missing', 'c')), /no such directory/);
    const warnings: string[] = [];
    const again = await createChart(path.join(work, 'mychart'), { onWarning: (m) => warnings.push(m) });
    assert.equal(again.overwritten.length, 12);
    assert.match(warnings[0]!, /already exists\. Overwriting\./);
  });
});

describe('helm package', () => {
  let work: string;
  before(async () => {
    work = await makeTempDir('chart-package');
  });
  after(async () => removeDir(work));

  it('writes the same tar as Helm 3 (oci-dependent-chart vector: every header field, order, modes, mtimes) inside Helm’s gzip header', async () => {
    const src = path.join(work, 'vec');
    for (const f of await readChartArchive(vector('oci-dependent-chart-0.1.0.tgz')))
      await writeTree(src, { [f.name]: f.data });
    const real = gunzip(vector('oci-dependent-chart-0.1.0.tgz'));
    const mtimeMs = parseInt(tarHeaders(real)[0]!.mtime, 8) * 1000;
    const r = await packageChart(src, { destination: path.join(work, 'out'), mtime: { fixedMs: mtimeMs } });
    const mine = await readFile(r.file);
    assert.deepEqual(gunzip(mine), real, 'the uncompressed tar is byte-identical');
    assert.deepEqual(
      tarHeaders(gunzip(mine)),
      parseHeaderListing(vectorText('oci-dependent-chart-0.1.0.tgz.headers.txt')),
    );
    const headerHex = vectorText('signtest-0.1.0.tgz.gzip-header.hex.txt')
      .split('\n')
      .map((l) => l.slice(10, 49).replace(/ /g, ''))
      .join('');
    assert.equal(
      mine.subarray(0, 58).toString('hex'),
      headerHex.slice(0, 116),
      'FLG FEXTRA|FCOMMENT, MTIME 0, OS 255, the 41-byte extra, "Helm"',
    );
    assert.deepEqual(mine.subarray(0, 58), vector('oci-dependent-chart-0.1.0.tgz').subarray(0, 58));
    assert.ok(
      mine.equals(vector('oci-dependent-chart-0.1.0.tgz')),
      'the whole .tgz is `helm package`’s, deflate stream included',
    );
    assert.equal(path.basename(r.file), 'oci-dependent-chart-0.1.0.tgz');
  });

  it('compresses as Helm does: both vectors’ tar streams gzip back to the vectors’ bytes', async () => {
    for (const name of ['oci-dependent-chart-0.1.0.tgz', 'signtest-0.1.0.tgz'])
      assert.ok(helmGzip(gunzip(vector(name))).equals(vector(name)), name);
  });

  it('packages a scaffold as Helm 3: NAME/ prefix from Chart.yaml, order, 0644, one mtime, no directories', async () => {
    const created = await createChart(path.join(work, 'web'));
    await writeFile(
      path.join(created.dir, 'Chart.yaml'),
      (await readFile(path.join(created.dir, 'Chart.yaml'), 'utf8')).replace('name: web', 'name: webapp'),
    );
    const before = Date.now();
    const r = await packageChart(created.dir, {
      destination: path.join(work, 'out'),
      version: '1.2.3+build.1',
      appVersion: '9.9',
    });
    assert.equal(path.basename(r.file), 'webapp-1.2.3+build.1.tgz');
    const headers = tarHeaders(gunzip(await readFile(r.file)));
    assert.deepEqual(
      headers.map((h) => h.name),
      [
        'Chart.yaml',
        'values.yaml',
        'templates/NOTES.txt',
        'templates/_helpers.tpl',
        'templates/deployment.yaml',
        'templates/hpa.yaml',
        'templates/httproute.yaml',
        'templates/ingress.yaml',
        'templates/service.yaml',
        'templates/serviceaccount.yaml',
        'templates/tests/test-connection.yaml',
        '.helmignore',
      ].map((n) => `webapp/${n}`),
    );
    assert.ok(
      headers.every(
        (h) =>
          h.mode === '0000644\0' &&
          h.type === '0' &&
          h.uid === '0000000\0' &&
          h.uname === '' &&
          h.devmajor === '0000000\0',
      ),
    );
    const mtimes = new Set(headers.map((h) => parseInt(h.mtime, 8)));
    assert.equal(mtimes.size, 1);
    assert.ok(Math.abs([...mtimes][0]! * 1000 - before) < 5000);
    const files = await readChartArchive(await readFile(r.file));
    assert.equal(
      files[0]!.data.toString(),
      'apiVersion: v2\nappVersion: "9.9"\ndescription: A Helm chart for Kubernetes\nname: webapp\ntype: application\nversion: 1.2.3+build.1\n',
    );
    assert.deepEqual(
      r.warnings.map((w) => w.message),
      ['icon is recommended'],
    );
  });

  it('honours .helmignore (and Helm’s default rule), strips BOMs, expands subcharts, re-serialises Chart.lock', async () => {
    const dir = path.join(work, 'umbrella');
    const sub = await loadChartArchive(vector('signtest-0.1.0.tgz'));
    const subTgz = chartArchive(sub, { mtime: { fixedMs: 0 } }).bytes;
    await writeTree(dir, {
      'Chart.yaml':
        'apiVersion: v2\nname: umbrella\nversion: 0.2.0\ndependencies:\n- name: local\n  version: 0.1.0\n  repository: file://charts/local\n- name: signtest\n  version: 0.1.0\n  repository: oci://example.com/charts\n',
      'Chart.lock':
        'dependencies:\n- name: local\n  repository: file://charts/local\n  version: 0.1.0\ndigest: sha256:0123\ngenerated: "2024-05-06T07:08:09.5Z"\n',
      'values.yaml': Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('a: 1\n')]),
      '.helmignore': '*.tmp\nsecret/\n',
      'README.md': '# readme\n',
      'notes.tmp': 'x',
      'secret/key.pem': 'x',
      'templates/.hidden.yaml': 'x',
      'templates/cm.yaml': 'kind: ConfigMap\n',
      'charts/local/Chart.yaml': 'apiVersion: v2\nname: local\nversion: 0.1.0\n',
      'charts/local/templates/a.yaml': 'a\n',
      'charts/signtest-0.1.0.tgz': subTgz,
      'charts/_ignored/Chart.yaml': 'name: x\n',
    });
    const r = await packageChart(dir, { destination: path.join(work, 'out'), mtime: { fixedMs: 1_700_000_000_000 } });
    const files = await readChartArchive(await readFile(r.file));
    assert.deepEqual(
      files.map((f) => f.name),
      [
        'Chart.yaml',
        'Chart.lock',
        'values.yaml',
        'templates/cm.yaml',
        '.helmignore',
        'README.md',
        'charts/local/Chart.yaml',
        'charts/local/templates/a.yaml',
        'charts/signtest/Chart.yaml',
        'charts/signtest/values.yaml',
        'charts/signtest/templates/pod.yaml',
        'charts/signtest/.helmignore',
        'charts/signtest/alpine/Chart.yaml',
        'charts/signtest/alpine/README.md',
        'charts/signtest/alpine/templates/alpine-pod.yaml',
        'charts/signtest/alpine/values.yaml',
      ],
    );
    assert.equal(files.find((f) => f.name === 'values.yaml')!.data.toString(), 'a: 1\n');
    assert.equal(
      files.find((f) => f.name === 'Chart.lock')!.data.toString(),
      'dependencies:\n- name: local\n  repository: file://charts/local\n  version: 0.1.0\ndigest: sha256:0123\ngenerated: "2024-05-06T07:08:09.5Z"\n',
    );
    // Reproducible with a fixed mtime.
    const again = await packageChart(dir, {
      destination: path.join(work, 'out2'),
      mtime: { fixedMs: 1_700_000_000_000 },
    });
    assert.deepEqual(await readFile(again.file), await readFile(r.file));
  });

  it('uses the source files’ mtimes with the "source" policy (Helm 4)', async () => {
    const dir = path.join(work, 'src-mtimes');
    await writeTree(dir, { 'Chart.yaml': 'apiVersion: v2\nname: m\nversion: 1.0.0\n', 'values.yaml': 'x: 1\n' });
    await utimes(path.join(dir, 'values.yaml'), 1_000_000, 1_000_000);
    const r = await packageChart(dir, { destination: path.join(work, 'out'), mtime: 'source' });
    const h = tarHeaders(gunzip(await readFile(r.file)));
    assert.equal(parseInt(h[1]!.mtime, 8), 1_000_000);
  });

  it('refuses what helm lint and helm package refuse, with actionable messages', async () => {
    const bad = async (files: Record<string, string>, opts = {}) => {
      const dir = await makeTempDir('chart-bad');
      await writeTree(dir, files);
      try {
        await packageChart(dir, { destination: dir, ...opts });
        assert.fail('packaged');
      } catch (e) {
        return e as Error;
      } finally {
        await removeDir(dir);
      }
    };
    const floatVersion = await bad({ 'Chart.yaml': 'apiVersion: v2\nname: x\nversion: 1.0\n' });
    assert.ok(floatVersion instanceof ChartInvalidError);
    assert.match(floatVersion.problems[0]!.hint!, /quote it/);
    const missingDep = await bad({
      'Chart.yaml':
        'apiVersion: v2\nname: x\nversion: 1.0.0\ndependencies:\n- name: db\n  version: 1.0.0\n  repository: oci://r/c\n',
    });
    assert.match(missingDep.message, /found in Chart\.yaml, but missing in charts\/ directory: db/);
    const badOverride = await bad({ 'Chart.yaml': 'apiVersion: v2\nname: x\nversion: 1.0.0\n' }, { version: 'latest' });
    assert.match(badOverride.message, /version "latest" is not a valid SemVer/);
    const badValues = await bad({ 'Chart.yaml': 'apiVersion: v2\nname: x\nversion: 1.0.0\n', 'values.yaml': 'a: [\n' });
    assert.ok(badValues instanceof ChartLoadError && /cannot load values\.yaml/.test(badValues.message));
    const badSchema = await bad({
      'Chart.yaml': 'apiVersion: v2\nname: x\nversion: 1.0.0\n',
      'values.schema.json': '{',
    });
    assert.match(badSchema.message, /Invalid JSON in values\.schema\.json/);
    const badIgnore = await bad({ 'Chart.yaml': 'apiVersion: v2\nname: x\nversion: 1.0.0\n', '.helmignore': 'a/**\n' });
    assert.match(badIgnore.message, /\.helmignore line 1 \(a\/\*\*\): double-star/);
    const noChart = await bad({ 'values.yaml': 'a: 1\n' });
    assert.ok(noChart instanceof ChartInvalidError && noChart.problems[0]!.message === 'Chart.yaml file is missing');
  });

  it('follows symlinks as Helm does and refuses broken ones', async () => {
    const dir = path.join(work, 'links');
    await writeTree(dir, { 'Chart.yaml': 'apiVersion: v2\nname: l\nversion: 1.0.0\n', 'real/x.txt': 'x\n' });
    await mkdir(path.join(dir, 'templates'));
    await symlink(path.join(dir, 'real', 'x.txt'), path.join(dir, 'templates', 'linked.txt'));
    const chart = await loadChartDir(dir);
    assert.deepEqual(
      chart.templates.map((t) => [t.name, t.data.toString()]),
      [['templates/linked.txt', 'x\n']],
    );
    await symlink(path.join(dir, 'nowhere'), path.join(dir, 'broken'));
    await assert.rejects(loadChartDir(dir), /error evaluating symlink/);
  });
});

describe('the OCI manifest Helm pushes', () => {
  it('is byte for byte Helm’s for signtest + prov (created 1977-09-02T22:04:05Z)', async () => {
    const chart = await loadChartArchive(vector('signtest-0.1.0.tgz'));
    const config = describeBytes(metadataConfigJson(chart.metadata), 'application/vnd.cncf.helm.config.v1+json');
    const tgz = describeBytes(vector('signtest-0.1.0.tgz'), 'application/vnd.cncf.helm.chart.content.v1.tar+gzip');
    const prov = describeBytes(vector('signtest-0.1.0.tgz.prov'), 'application/vnd.cncf.helm.chart.provenance.v1.prov');
    const manifest = helmManifest(config, [tgz, prov], helmAnnotations(chart.metadata, SIGNTEST.created));
    assert.deepEqual(manifest, vector('signtest-0.1.0.manifest.json'));
    assert.equal(`sha256:${sha256(manifest)}`, SIGNTEST.manifestDigest);
  });

  it('carries the annotations Helm derives from Chart.yaml (chart annotations may not override title or version)', () => {
    const md = decodeChartYaml(
      'apiVersion: v2\nname: x\nversion: 1.0.0\ndescription: d\nhome: https://h\nsources: [https://s1, https://s2]\nmaintainers:\n- name: A\n  email: a@x.io\n- name: B\nannotations:\n  org.opencontainers.image.title: nope\n  org.opencontainers.image.url: https://override\n  custom: v\n',
    );
    validateMetadata(md);
    assert.deepEqual(helmAnnotations(md, '2024-01-01T00:00:00Z'), {
      'org.opencontainers.image.description': 'd',
      'org.opencontainers.image.title': 'x',
      'org.opencontainers.image.version': '1.0.0',
      'org.opencontainers.image.url': 'https://override',
      'org.opencontainers.image.created': '2024-01-01T00:00:00Z',
      'org.opencontainers.image.source': 'https://s1',
      'org.opencontainers.image.authors': 'A (a@x.io), B',
      custom: 'v',
    });
  });
});

describe('stowage chart create / lint / package on the command line', () => {
  let work: string;
  before(async () => {
    work = await makeTempDir('chart-cli');
  });
  after(async () => removeDir(work));

  it('lints like helm lint: helm’s lines, hints, exit 1 on errors, JSON errors for scripts', async () => {
    await writeTree(path.join(work, 'broken'), { 'Chart.yaml': 'apiVersion: v2\nname: broken\nversion: 1.0\n' });
    const r = await stowage(['chart', 'lint', path.join(work, 'broken')]);
    assert.equal(r.code, 1);
    assert.match(
      r.stdout,
      /^==> Linting .*broken\n\[ERROR\] Chart\.yaml: version should be of type string but it's of type float64\n {2}hint: quote it in Chart\.yaml: version: "1\.0"\n\[INFO\] Chart\.yaml: icon is recommended\n\[WARNING\] Chart\.yaml: version '1' is not a valid SemVerV2\n.*\n\n1 chart\(s\) linted, 1 chart\(s\) failed\n$/,
    );
    const json = await stowage(['chart', 'package', path.join(work, 'broken'), '-d', work, '--output', 'json']);
    assert.equal(json.code, 1);
    const err = JSON.parse(json.stdout) as { error: { code: string; message: string; hint: string } };
    assert.equal(err.error.code, 'CHART_INVALID');
    assert.match(err.error.hint, /quote it/);
    const created = await stowage(['chart', 'create', path.join(work, 'ok')]);
    assert.equal(created.code, 0);
    const clean = await stowage(['chart', 'lint', path.join(work, 'ok'), '--output', 'json']);
    assert.equal(clean.code, 0);
    assert.deepEqual((JSON.parse(clean.stdout) as { failed: number }).failed, 0);
  });

  it('refuses a bad chart name with exit 2', async () => {
    const r = await stowage(['chart', 'create', path.join(work, 'no way')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /invalid chart name "no way": chart name must match the regular expression/);
  });

  it('packages reproducibly with SOURCE_DATE_EPOCH', async () => {
    await stowage(['chart', 'create', path.join(work, 'repro')]);
    const env = { SOURCE_DATE_EPOCH: '1700000000' };
    const a = await stowage(['chart', 'package', path.join(work, 'repro'), '-d', path.join(work, 'a')], { env });
    const b = await stowage(
      ['chart', 'package', path.join(work, 'repro'), '-d', path.join(work, 'b'), '--version', '0.1.0'],
      { env },
    );
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const fa = await readFile(path.join(work, 'a', 'repro-0.1.0.tgz'));
    assert.deepEqual(fa, await readFile(path.join(work, 'b', 'repro-0.1.0.tgz')));
    assert.ok(tarHeaders(gunzip(fa)).every((h) => parseInt(h.mtime, 8) === 1_700_000_000));
  });
});
