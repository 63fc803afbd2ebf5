/** One manifest, shown as what it is: image, index, Helm chart, Flux artifact, OPA bundle; its referrers; raw JSON. */
import { api, kindLabel, type Manifest, type Referrer } from './api.js';
import type { PageContext } from './app-state.js';
import {
  copyButton,
  facts,
  formatBytes,
  h,
  section,
  shortDigest,
  table,
  time,
  trustedHtml,
  type Child,
} from './dom.js';
import { highlightYaml } from './yaml-highlight.js';
import { paths } from './router.js';

export async function renderArtifact(ctx: PageContext, name: string, ref: string): Promise<void> {
  const m = await api.manifest(name, ref, ctx.signal);
  ctx.title(
    `${name}@${shortDigest(m.digest)}`,
    h(
      'span',
      null,
      h('a', { href: paths.repository(name) }, name),
      h('span', { class: 'at' }, `@${shortDigest(m.digest)}`),
    ),
  );
  ctx.main.append(
    h(
      'p',
      { class: 'crumbs' },
      h('a', { href: '/' }, 'Repositories'),
      ' / ',
      h('a', { href: paths.repository(name) }, name),
      ' / ',
      m.tags[0] ?? shortDigest(m.digest),
    ),
    overview(name, m),
  );
  if (m.index) ctx.main.append(indexSection(name, m.index));
  if (m.image) ctx.main.append(...imageSections(m));
  if (m.chart) ctx.main.append(...chartSections(name, m));
  if (m.flux) ctx.main.append(fluxSection(name, m));
  if (m.opa) ctx.main.append(opaSection(name, m));
  if (!m.index && m.layers.length > 0) ctx.main.append(layersSection(m));
  const referrers = h('div', null, h('p', { class: 'muted' }, 'Loading referrers…'));
  ctx.main.append(section('Referrers', 'referrers', referrers));
  ctx.main.append(rawSection(ctx, name, m));
  // Referrers (and their signature checks) come after the page is drawn.
  api
    .referrers(name, m.digest, ctx.signal)
    .then((r) => referrers.replaceChildren(referrerList(name, r.items)))
    .catch((e: unknown) => {
      if (!ctx.signal.aborted)
        referrers.replaceChildren(
          h('p', { class: 'error' }, `Referrers could not be listed: ${e instanceof Error ? e.message : String(e)}`),
        );
    });
}

function overview(name: string, m: Manifest): HTMLElement {
  const annotations = Object.entries(m.annotations ?? {});
  return section(
    'Overview',
    'overview',
    facts([
      ['Kind', h('span', { class: `kind kind-${m.kind}` }, kindLabel(m.kind))],
      ['Digest', [h('code', { class: 'digest' }, m.digest), copyButton(m.digest, 'digest')]],
      ['Tags', m.tags.length ? m.tags.map((t, i) => [i ? ', ' : '', h('code', null, t)]) : null],
      ['Media type', h('code', null, m.mediaType)],
      ['Artifact type', m.artifactType ? h('code', null, m.artifactType) : null],
      ['Size', formatBytes(m.size)],
      ['Pushed', time(m.pushed)],
      ['Subject', m.subject ? h('a', { href: paths.artifact(name, m.subject) }, shortDigest(m.subject)) : null],
      ['Referrers', m.referrers ? String(m.referrers) : null],
    ]),
    annotations.length
      ? table(
          'Annotations',
          ['Annotation', 'Value'],
          annotations.map(([k, v]) => [h('code', null, k), v]),
        )
      : null,
  );
}

function indexSection(name: string, index: NonNullable<Manifest['index']>): HTMLElement {
  return section(
    'Platforms',
    'platforms',
    table(
      'Platforms of this index',
      ['Platform', 'Manifest', 'Kind', 'Size'],
      index.manifests.map((d) => [
        d.platform ?? '—',
        h(
          'a',
          {
            href: paths.artifact(name, d.digest),
            'aria-label': `${d.platform ?? 'manifest'} ${shortDigest(d.digest)}`,
          },
          h('code', null, shortDigest(d.digest)),
        ),
        kindLabel(d.kind),
        formatBytes(d.size),
      ]),
    ),
  );
}

function list(items: readonly string[] | null | undefined): Child {
  if (!items || items.length === 0) return null;
  return h(
    'ul',
    { class: 'plain' },
    items.map((i) => h('li', null, h('code', null, i))),
  );
}

function imageSections(m: Manifest): HTMLElement[] {
  const img = m.image!;
  const ports = Array.isArray(img.exposedPorts) ? img.exposedPorts : Object.keys(img.exposedPorts ?? {});
  const labels = Object.entries(img.labels ?? {});
  const out = [
    section(
      'Configuration',
      'config',
      facts([
        ['Platform', img.platform],
        ['Entrypoint', img.entrypoint?.length ? h('code', null, JSON.stringify(img.entrypoint)) : null],
        ['Command', img.cmd?.length ? h('code', null, JSON.stringify(img.cmd)) : null],
        ['Working directory', img.workingDir ? h('code', null, img.workingDir) : null],
        ['User', img.user ? h('code', null, img.user) : null],
        ['Exposed ports', list(ports)],
        ['Environment', list(img.env)],
      ]),
      labels.length
        ? table(
            'Labels',
            ['Label', 'Value'],
            labels.map(([k, v]) => [h('code', null, k), v]),
            false,
          )
        : null,
    ),
  ];
  if (img.history.length > 0) {
    out.push(
      section(
        'History',
        'history',
        table(
          'Build history',
          ['Created', 'Step', 'Layer'],
          img.history.map((s) => [
            time(s.created),
            h('code', { class: 'wrap' }, s.createdBy ?? s.comment ?? ''),
            s.emptyLayer ? 'empty' : 'layer',
          ]),
        ),
      ),
    );
  }
  return out;
}

function layersSection(m: Manifest): HTMLElement {
  const total = m.layers.reduce((n, l) => n + l.size, 0);
  return section(
    'Layers',
    'layers',
    h(
      'p',
      { class: 'muted' },
      `${m.layers.length} ${m.layers.length === 1 ? 'layer' : 'layers'}, ${formatBytes(total)}`,
    ),
    table(
      'Layers',
      ['#', 'Digest', 'Media type', 'Size'],
      m.layers.map((l, i) => [
        String(i + 1),
        [h('code', { title: l.digest }, shortDigest(l.digest)), copyButton(l.digest, `digest of layer ${i + 1}`)],
        h('code', null, l.mediaType),
        formatBytes(l.size),
      ]),
    ),
  );
}

function metadataValue(v: unknown): Child {
  if (v === null || v === undefined || v === '') return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
    const s = String(v);
    return /^https?:\/\//.test(s) ? h('a', { href: s, rel: 'noopener noreferrer nofollow' }, s) : s;
  }
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v.join(', ');
  if (Array.isArray(v) && v.every((x) => x && typeof x === 'object'))
    return h(
      'ul',
      { class: 'plain' },
      v.map((x) =>
        h(
          'li',
          null,
          Object.values(x as Record<string, unknown>)
            .filter((y) => typeof y === 'string')
            .join(' · '),
        ),
      ),
    );
  return h('code', null, JSON.stringify(v));
}

function chartSections(name: string, m: Manifest): HTMLElement[] {
  const c = m.chart!;
  const meta = c.metadata ?? {};
  const order = [
    'name',
    'version',
    'appVersion',
    'description',
    'type',
    'apiVersion',
    'kubeVersion',
    'home',
    'sources',
    'keywords',
    'maintainers',
    'icon',
    'deprecated',
  ];
  const keys = [
    ...order.filter((k) => k in meta),
    ...Object.keys(meta).filter((k) => !order.includes(k) && k !== 'dependencies'),
  ];
  const out: HTMLElement[] = [section('Chart', 'chart', facts(keys.map((k) => [k, metadataValue(meta[k])])))];
  if (c.readmeHtml) {
    // The only HTML inserted as HTML: sanitised by the server, scrubbed again by trustedHtml.
    const readme = h('div', { class: 'markdown' });
    readme.append(trustedHtml(c.readmeHtml));
    out.push(section('README', 'readme', readme));
  }
  if (c.values !== null) {
    const pre = h('pre', { class: 'code yaml', tabindex: '0', 'aria-label': 'values.yaml' });
    pre.append(highlightYaml(c.values));
    out.push(
      section(
        'values.yaml',
        'values',
        c.valuesTruncated ? h('p', { class: 'muted' }, 'Shown in part: the file is larger than the limit.') : null,
        pre,
      ),
    );
  }
  if (c.dependencies.length > 0) {
    out.push(
      section(
        'Dependencies',
        'dependencies',
        table(
          'Dependencies',
          ['Name', 'Version', 'Repository', 'Condition'],
          c.dependencies.map((d) => [d.name, d.version, d.repository, d.condition ?? '—']),
        ),
      ),
    );
  }
  if (c.versions.length > 0) {
    out.push(
      section(
        'Versions',
        'versions',
        table(
          'All versions of this chart',
          ['Version', 'Digest', 'Pushed'],
          c.versions.map((v) => [
            h('a', { href: paths.artifact(name, v.digest) }, v.tag),
            h('code', null, shortDigest(v.digest)),
            time(v.pushed),
          ]),
        ),
      ),
    );
  }
  out.push(filesLink(name, m, 'Browse the chart’s files'));
  return out;
}

function filesLink(name: string, m: Manifest, text: string): HTMLElement {
  return h('p', { class: 'files-link' }, h('a', { href: paths.files(name, m.digest), class: 'button' }, text));
}

function fluxSection(name: string, m: Manifest): HTMLElement {
  const f = m.flux!;
  return section(
    'Flux artifact',
    'flux',
    facts([
      ['Source', f.source ? h('code', null, f.source) : null],
      [
        'Revision',
        f.revision
          ? f.sourceUrl
            ? h('a', { href: f.sourceUrl, rel: 'noopener noreferrer nofollow' }, f.revision)
            : h('code', null, f.revision)
          : null,
      ],
      ['Created', time(f.created)],
    ]),
    filesLink(name, m, 'Browse the files'),
  );
}

function opaSection(name: string, m: Manifest): HTMLElement {
  const o = m.opa!;
  const fileList = (files: string[]) =>
    files.length
      ? h(
          'ul',
          { class: 'plain' },
          files.map((p) => h('li', null, h('a', { href: paths.files(name, m.digest, p) }, p))),
        )
      : h('p', { class: 'muted' }, 'None');
  return section(
    'OPA policy bundle',
    'opa',
    facts([
      [
        'Roots',
        o.roots.length ? o.roots.map((r, i) => [i ? ', ' : '', h('code', null, r === '' ? '(all)' : r)]) : '(all)',
      ],
      ['Revision', o.revision ? h('code', null, o.revision) : null],
    ]),
    h('h3', null, 'Rego files'),
    fileList(o.rego),
    h('h3', null, 'Data documents'),
    fileList(o.data),
    filesLink(name, m, 'Browse the bundle'),
  );
}

const VERIFICATION: Record<string, { label: string; cls: string }> = {
  verified: { label: 'Verified', cls: 'ok' },
  failed: { label: 'Verification failed', cls: 'bad' },
  unverified: { label: 'Not verified', cls: 'warn' },
  'no-keys': { label: 'No keys configured', cls: 'muted-badge' },
};

function referrerList(name: string, items: Referrer[]): HTMLElement {
  if (items.length === 0)
    return h('p', { class: 'muted' }, 'Nothing refers to this manifest (no signature, SBOM or attestation).');
  return table(
    'Referrers: signatures, SBOMs, attestations',
    ['Kind', 'Referrer', 'Type', 'Created', 'Verification'],
    items.map((r) => {
      const v = r.verification ? VERIFICATION[r.verification.status] : undefined;
      return [
        kindLabel(r.kind),
        [
          h('a', { href: paths.artifact(name, r.digest) }, h('code', null, shortDigest(r.digest))),
          r.legacyTag ? [' ', h('span', { class: 'muted' }, `(tag ${r.legacyTag})`)] : null,
        ],
        h('code', null, r.artifactType ?? r.mediaType),
        time(r.created),
        r.verification
          ? [
              h('span', { class: `badge ${v?.cls ?? ''}` }, v?.label ?? r.verification.status),
              r.verification.signer ? [' ', h('span', null, r.verification.signer)] : null,
              r.verification.message ? h('div', { class: 'muted small' }, r.verification.message) : null,
            ]
          : '—',
      ];
    }),
  );
}

function rawSection(ctx: PageContext, name: string, m: Manifest): HTMLElement {
  const manifest = h(
    'pre',
    { class: 'code json', tabindex: '0', 'aria-label': 'Manifest JSON' },
    JSON.stringify(m.manifest, null, 2),
  );
  const details = [
    h(
      'details',
      null,
      h('summary', null, 'Manifest JSON'),
      copyButton(JSON.stringify(m.manifest, null, 2), 'manifest JSON'),
      manifest,
    ),
  ];
  if (m.config) {
    const body = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
    const cfg = h('details', null, h('summary', null, `Config JSON (${formatBytes(m.config.size)})`), body);
    let loaded = false;
    cfg.addEventListener('toggle', () => {
      if (!cfg.open || loaded) return;
      loaded = true;
      api
        .config(name, m.digest, ctx.signal)
        .then((json) =>
          body.replaceChildren(
            h('pre', { class: 'code json', tabindex: '0', 'aria-label': 'Config JSON' }, JSON.stringify(json, null, 2)),
          ),
        )
        .catch((e: unknown) =>
          body.replaceChildren(h('p', { class: 'error' }, e instanceof Error ? e.message : String(e))),
        );
    });
    details.push(cfg);
  }
  return section('Raw', 'raw', ...details);
}
