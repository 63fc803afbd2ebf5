/** The repositories the caller may pull: searched and filtered by kind on the server, paged by cursor. */
import { KIND_LABELS, api, kindLabel, type RepositoryItem } from './api.js';
import type { PageContext } from './app-state.js';
import { announce, formatBytes, h, time } from './dom.js';
import { paths } from './router.js';

const PAGE = 50;

export async function renderRepositories(ctx: PageContext, q: string, kind: string): Promise<void> {
  ctx.title('Repositories');
  const search = h('input', {
    id: 'repo-q',
    type: 'search',
    name: 'q',
    value: q,
    placeholder: 'Name contains…',
    autocomplete: 'off',
  });
  const kindSelect = h(
    'select',
    { id: 'repo-kind', name: 'kind' },
    h('option', { value: '' }, 'All kinds'),
    Object.entries(KIND_LABELS).map(([value, label]) => h('option', { value, selected: value === kind }, label)),
  );
  const form = h(
    'form',
    { role: 'search', class: 'filters', 'aria-label': 'Repositories' },
    h('div', { class: 'field' }, h('label', { for: 'repo-q' }, 'Search'), search),
    h('div', { class: 'field' }, h('label', { for: 'repo-kind' }, 'Kind'), kindSelect),
  );
  const status = h('p', { class: 'status', id: 'repo-status' });
  const body = h('tbody');
  const list = h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { 'aria-describedby': 'repo-status' },
      h('caption', { class: 'offscreen' }, 'Repositories'),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          ['Name', 'Kind', 'Tags', 'Size', 'Last push'].map((t) =>
            h('th', { scope: 'col', class: t === 'Tags' || t === 'Size' ? 'num' : undefined }, t),
          ),
        ),
      ),
      body,
    ),
  );
  const more = h('button', { type: 'button', class: 'more', hidden: true }, 'Show more repositories');
  ctx.main.append(form, status, list, more);

  let cursor: string | null = null;
  let shown = 0;
  let generation = 0;

  const load = async (reset: boolean): Promise<void> => {
    const mine = ++generation;
    if (reset) cursor = null;
    more.disabled = true;
    const page = await api.repositories(
      { q: search.value.trim(), kind: kindSelect.value, cursor, limit: PAGE },
      ctx.signal,
    );
    if (mine !== generation) return;
    if (reset) {
      body.replaceChildren();
      shown = 0;
    }
    for (const repo of page.items) body.append(row(repo));
    shown += page.items.length;
    cursor = page.next;
    more.hidden = cursor === null;
    more.disabled = false;
    status.textContent =
      shown === 0
        ? search.value || kindSelect.value
          ? 'No repository matches.'
          : ctx.session.authEnabled && !ctx.session.user
            ? 'No public repository. Sign in to see yours.'
            : 'No repository yet.'
        : `${shown}${cursor ? '+' : ''} ${shown === 1 ? 'repository' : 'repositories'}`;
    if (!reset || mine > 1) announce(status.textContent);
  };

  let timer: number | undefined;
  const refilter = () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => {
      // The user may have moved on before the pause ended: this page no longer owns the URL.
      if (ctx.signal.aborted) return;
      // The filters are in the URL, so a search can be shared and survives reloads.
      history.replaceState(null, '', paths.home(search.value.trim(), kindSelect.value));
      load(true).catch(report);
    }, 200);
  };
  const report = (e: unknown) => {
    if (!ctx.signal.aborted) status.textContent = e instanceof Error ? e.message : String(e);
  };
  ctx.signal.addEventListener('abort', () => window.clearTimeout(timer));
  search.addEventListener('input', refilter);
  kindSelect.addEventListener('change', refilter);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    refilter();
  });
  more.addEventListener('click', () => void load(false).catch(report));
  await load(true);
}

function row(repo: RepositoryItem): HTMLTableRowElement {
  return h(
    'tr',
    null,
    h('th', { scope: 'row' }, h('a', { href: paths.repository(repo.name) }, repo.name)),
    h('td', null, h('span', { class: `kind kind-${repo.kind}` }, kindLabel(repo.kind))),
    h('td', { class: 'num' }, repo.tags),
    h('td', { class: 'num' }, formatBytes(repo.size)),
    h('td', null, time(repo.lastPush)),
  );
}
