/** One repository: its summary, the commands to pull it, its tags (sortable, paged), deletes. */
import { ApiError, api, kindLabel, type Summary, type TagItem } from './api.js';
import type { PageContext } from './app-state.js';
import { confirmDialog } from './dialog.js';
import { announce, copyButton, facts, formatBytes, h, section, shortDigest, table, time } from './dom.js';
import { paths } from './router.js';

const PAGE = 100;

const TOOL_LABELS: Record<string, string> = {
  docker: 'Docker',
  helm: 'Helm',
  flux: 'Flux',
  oras: 'ORAS',
  stowage: 'Stowage',
};

export async function renderRepository(ctx: PageContext, name: string): Promise<void> {
  const sortParam = new URLSearchParams(location.search).get('sort');
  let sort = sortParam === 'semver' || sortParam === 'name' ? sortParam : 'pushed';
  const [summary, first] = await Promise.all([
    api.summary(name, ctx.signal),
    api.tags(name, { sort, limit: PAGE }, ctx.signal),
  ]);
  ctx.title(name);
  ctx.main.append(
    h('p', { class: 'crumbs' }, h('a', { href: '/' }, 'Repositories'), ' / ', name),
    facts([
      ['Kind', h('span', { class: `kind kind-${summary.kind}` }, kindLabel(summary.kind))],
      ['Tags', String(summary.tags)],
      ['Manifests', String(summary.manifests)],
      ['Size', formatBytes(summary.size)],
      ['Last push', time(summary.lastPush)],
    ]),
  );
  if (summary.commands.length > 0) ctx.main.append(commands(summary));
  if (summary.quota) ctx.main.append(quota(summary.quota));

  const status = h('p', { class: 'status', id: 'tags-status' });
  const body = h('tbody');
  const sortSelect = h(
    'select',
    { id: 'tag-sort' },
    h('option', { value: 'pushed', selected: sort === 'pushed' }, 'Push time, newest first'),
    h('option', { value: 'semver', selected: sort === 'semver' }, 'Version (semver), highest first'),
    h('option', { value: 'name', selected: sort === 'name' }, 'Name'),
  );
  const more = h('button', { type: 'button', class: 'more', hidden: true }, 'Show more tags');
  const headers = ['Tag', 'Digest', 'Kind', 'Size', 'Pushed', 'Signed', 'Platforms'];
  if (summary.canDelete) headers.push('Actions');
  ctx.main.append(
    section(
      'Tags',
      'tags',
      h(
        'div',
        { class: 'filters' },
        h('div', { class: 'field' }, h('label', { for: 'tag-sort' }, 'Sort by'), sortSelect),
      ),
      status,
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { 'aria-describedby': 'tags-status' },
          h('caption', { class: 'offscreen' }, `Tags of ${name}`),
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              headers.map((t) => h('th', { scope: 'col', class: t === 'Size' ? 'num' : undefined }, t)),
            ),
          ),
          body,
        ),
      ),
      more,
    ),
  );
  if (summary.retention && summary.retention.length > 0) ctx.main.append(retention(summary.retention));

  let cursor: string | null = null;
  let count = 0;
  const show = (page: { items: TagItem[]; next: string | null }, reset: boolean) => {
    if (reset) {
      body.replaceChildren();
      count = 0;
    }
    const frag = document.createDocumentFragment();
    for (const tag of page.items) frag.append(tagRow(name, summary, tag, () => updateCount(-1)));
    body.append(frag);
    count += page.items.length;
    cursor = page.next;
    more.hidden = cursor === null;
    updateCount(0);
  };
  const updateCount = (delta: number) => {
    count += delta;
    status.textContent =
      count === 0 ? 'No tags.' : `${count}${cursor ? ` of ${summary.tags}` : ''} ${count === 1 ? 'tag' : 'tags'}`;
  };
  show(first, true);
  more.addEventListener('click', () => {
    more.disabled = true;
    api
      .tags(name, { sort, cursor, limit: PAGE }, ctx.signal)
      .then((page) => show(page, false))
      .catch((e: unknown) => (status.textContent = e instanceof Error ? e.message : String(e)))
      .finally(() => (more.disabled = false));
  });
  sortSelect.addEventListener('change', () => {
    sort = sortSelect.value;
    history.replaceState(null, '', `${paths.repository(name)}${sort === 'pushed' ? '' : `?sort=${sort}`}`);
    api
      .tags(name, { sort, limit: PAGE }, ctx.signal)
      .then((page) => {
        show(page, true);
        announce(`Tags sorted by ${sortSelect.selectedOptions[0]?.textContent ?? sort}`);
      })
      .catch((e: unknown) => (status.textContent = e instanceof Error ? e.message : String(e)));
  });
}

function commands(summary: Summary): HTMLElement {
  return section(
    'Pull',
    'pull',
    h(
      'ul',
      { class: 'commands' },
      summary.commands.map((c) =>
        h(
          'li',
          null,
          h('span', { class: 'tool' }, TOOL_LABELS[c.tool] ?? c.tool),
          h('code', { class: 'command' }, c.command),
          copyButton(c.command, `${TOOL_LABELS[c.tool] ?? c.tool} command`),
        ),
      ),
    ),
  );
}

function quota(q: NonNullable<Summary['quota']>): HTMLElement {
  const used = q.limitBytes ? Math.min(100, Math.round((q.bytes / q.limitBytes) * 100)) : null;
  return section(
    'Quota',
    'quota',
    facts([
      ['Namespace', q.namespace],
      [
        'Used',
        `${formatBytes(q.bytes)}${q.limitBytes ? ` of ${formatBytes(q.limitBytes)} (${used}%)` : ' (no size limit)'}`,
      ],
      ['Tags limit', q.tagsLimit === null ? null : String(q.tagsLimit)],
      ['Manifests limit', q.manifestsLimit === null ? null : String(q.manifestsLimit)],
    ]),
    used === null
      ? null
      : h('progress', { max: '100', value: String(used), 'aria-label': `Quota used: ${used}%` }, `${used}%`),
  );
}

function retention(rows: NonNullable<Summary['retention']>): HTMLElement {
  return section(
    'Retention',
    'retention',
    table(
      'Retention decisions',
      ['Tag', 'Decision', 'Rule'],
      rows.map((r) => [
        r.tag,
        h('span', { class: r.keep ? 'badge ok' : 'badge warn' }, r.keep ? 'Kept' : 'Will be removed'),
        r.rule,
      ]),
    ),
  );
}

function tagRow(name: string, summary: Summary, tag: TagItem, removed: () => void): HTMLTableRowElement {
  const cells = [
    h(
      'th',
      { scope: 'row' },
      h('a', { href: paths.artifact(name, tag.digest) }, tag.name),
      tag.immutable ? h('span', { class: 'badge' }, 'immutable') : null,
    ),
    h(
      'td',
      null,
      h('code', { class: 'digest', title: tag.digest }, shortDigest(tag.digest)),
      copyButton(tag.digest, `digest of ${tag.name}`),
    ),
    h('td', null, h('span', { class: `kind kind-${tag.kind}` }, kindLabel(tag.kind))),
    h('td', { class: 'num' }, formatBytes(tag.size)),
    h('td', null, time(tag.pushed)),
    h('td', null, tag.signed ? h('span', { class: 'badge ok' }, 'Signed') : h('span', { class: 'muted' }, 'No')),
    h('td', null, tag.platforms && tag.platforms.length ? tag.platforms.join(', ') : '—'),
  ];
  const tr = h('tr', { 'data-tag': tag.name }, cells);
  if (summary.canDelete) {
    const delTag = h(
      'button',
      { type: 'button', class: 'danger small', 'aria-label': `Delete tag ${tag.name}`, disabled: tag.immutable },
      'Delete tag',
    );
    const delManifest = h(
      'button',
      {
        type: 'button',
        class: 'danger small',
        'aria-label': `Delete manifest ${shortDigest(tag.digest)} (tag ${tag.name})`,
        disabled: tag.immutable,
      },
      'Delete manifest',
    );
    const act = async (what: 'tag' | 'manifest') => {
      const ok = await confirmDialog(
        what === 'tag' ? `Delete tag ${tag.name}?` : `Delete manifest ${shortDigest(tag.digest)}?`,
        what === 'tag'
          ? `The tag ${name}:${tag.name} will be removed. The manifest ${tag.digest} stays, with its other tags.`
          : `The manifest ${tag.digest} and every tag that names it will be removed from ${name}. This cannot be undone.`,
        what === 'tag' ? 'Delete tag' : 'Delete manifest',
      );
      if (!ok) return;
      try {
        if (what === 'tag') await api.deleteTag(name, tag.name);
        else await api.deleteManifest(name, tag.digest);
      } catch (e) {
        const message = e instanceof ApiError ? e.message : String(e);
        announce(`Could not delete: ${message}`);
        tr.after(
          h(
            'tr',
            { class: 'row-error' },
            h('td', { colspan: String(cells.length + 1), role: 'alert' }, `Could not delete ${tag.name}: ${message}`),
          ),
        );
        return;
      }
      const rows =
        what === 'tag'
          ? [tr]
          : Array.from(tr.parentElement?.querySelectorAll<HTMLTableRowElement>('tr') ?? []).filter((r) =>
              r.querySelector(`a[href="${paths.artifact(name, tag.digest)}"]`),
            );
      const next = (rows[rows.length - 1]?.nextElementSibling ?? rows[0]?.previousElementSibling) as HTMLElement | null;
      for (const r of rows) {
        r.remove();
        removed();
      }
      announce(what === 'tag' ? `Deleted tag ${tag.name}` : `Deleted manifest ${shortDigest(tag.digest)}`);
      // Focus must not fall to <body> when the focused row goes away.
      (next?.querySelector<HTMLElement>('a') ?? document.getElementById('tag-sort'))?.focus();
    };
    delTag.addEventListener('click', () => void act('tag'));
    delManifest.addEventListener('click', () => void act('manifest'));
    tr.append(h('td', { class: 'actions' }, delTag, delManifest));
  }
  return tr;
}
