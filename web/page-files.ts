/** The file tree of an artifact's tarball layer, and any one file of it (text, highlighted YAML, or rendered Markdown). */
import { api, type FileEntry } from './api.js';
import type { PageContext } from './app-state.js';
import { formatBytes, h, shortDigest, trustedHtml } from './dom.js';
import { highlightYaml } from './yaml-highlight.js';
import { paths } from './router.js';

interface TreeNode {
  name: string;
  path: string;
  entry?: FileEntry;
  children: Map<string, TreeNode>;
}

export async function renderFiles(
  ctx: PageContext,
  name: string,
  ref: string,
  path: string | null,
  layer: string | null,
): Promise<void> {
  const [m, files] = await Promise.all([api.manifest(name, ref, ctx.signal), api.files(name, ref, layer, ctx.signal)]);
  ctx.title(
    path ? `${path} · ${name}` : `Files of ${name}@${shortDigest(m.digest)}`,
    path ?? `Files of ${name}@${shortDigest(m.digest)}`,
  );
  ctx.main.append(
    h(
      'p',
      { class: 'crumbs' },
      h('a', { href: '/' }, 'Repositories'),
      ' / ',
      h('a', { href: paths.repository(name) }, name),
      ' / ',
      h('a', { href: paths.artifact(name, m.digest) }, m.tags[0] ?? shortDigest(m.digest)),
      ' / ',
      path ? h('a', { href: paths.files(name, ref, undefined, layer) }, 'files') : 'files',
    ),
  );
  const viewer = h('div', { class: 'viewer' });
  const layout = h(
    'div',
    { class: 'files' },
    h(
      'nav',
      { class: 'tree card', 'aria-label': 'Files' },
      h('h2', null, 'Files'),
      h(
        'p',
        { class: 'muted small' },
        `Layer ${shortDigest(files.layer)}, ${files.entries.length} entries${files.truncated ? ' (list cut at the limit)' : ''}`,
      ),
      tree(name, ref, files.entries, path, layer),
    ),
    viewer,
  );
  ctx.main.append(layout);
  if (!path) {
    viewer.append(h('p', { class: 'muted' }, 'Choose a file to see its content.'));
    return;
  }
  const file = await api.file(name, ref, path, layer, ctx.signal);
  const body = h('div', { class: 'card file' });
  body.append(
    h('h2', null, file.path),
    h('p', { class: 'muted small' }, `${formatBytes(file.size)}${file.truncated ? ', shown in part' : ''}`),
  );
  if (file.binary) {
    body.append(h('p', null, 'A binary file: not shown.'));
  } else if (file.html !== null) {
    const md = h('div', { class: 'markdown' });
    md.append(trustedHtml(file.html));
    body.append(md);
  } else {
    const pre = h('pre', { class: 'code', tabindex: '0', 'aria-label': `Content of ${file.path}` });
    if (/\.ya?ml$/i.test(file.path)) pre.append(highlightYaml(file.text ?? ''));
    else pre.textContent = file.text ?? '';
    body.append(pre);
  }
  viewer.append(body);
}

function tree(
  name: string,
  ref: string,
  entries: readonly FileEntry[],
  selected: string | null,
  layer: string | null,
): HTMLElement {
  const root: TreeNode = { name: '', path: '', children: new Map() };
  for (const e of entries) {
    const parts = e.path.replace(/^\.\//, '').replace(/\/$/, '').split('/').filter(Boolean);
    let node = root;
    parts.forEach((part, i) => {
      let child = node.children.get(part);
      if (!child) {
        child = { name: part, path: parts.slice(0, i + 1).join('/'), children: new Map() };
        node.children.set(part, child);
      }
      node = child;
    });
    node.entry = e;
  }
  const draw = (node: TreeNode): HTMLUListElement =>
    h(
      'ul',
      null,
      [...node.children.values()]
        .sort((a, b) => Number(b.children.size > 0) - Number(a.children.size > 0) || a.name.localeCompare(b.name))
        .map((child) => {
          const isDir = child.children.size > 0 || child.entry?.type === 'dir';
          if (isDir) return h('li', { class: 'dir' }, h('span', { class: 'dir-name' }, `${child.name}/`), draw(child));
          const file = child.entry?.path ?? child.path;
          const current = selected !== null && (selected === file || selected === child.path);
          return h(
            'li',
            null,
            h(
              'a',
              { href: paths.files(name, ref, file, layer), 'aria-current': current ? 'page' : undefined },
              child.name,
            ),
            child.entry?.type === 'symlink'
              ? ' (link)'
              : h('span', { class: 'muted small' }, ` ${formatBytes(child.entry?.size ?? 0)}`),
          );
        }),
    );
  return draw(root);
}
