/**
 * The web UI's entry point: the page frame (header, skip link, live region), the
 * session, and client-side navigation over the History API.
 */
import { ApiError, api, setCsrf, type Info, type Session } from './api.js';
import type { PageContext } from './app-state.js';
import { append, clear, h } from './dom.js';
import { parseRoute, paths } from './router.js';
import { renderRepositories } from './page-repositories.js';
import { renderRepository } from './page-repository.js';
import { renderArtifact } from './page-artifact.js';
import { renderFiles } from './page-files.js';
import { renderSignIn } from './page-signin.js';

let session: Session = { user: null, admin: false, csrf: null, authEnabled: false };
let info: Info = {
  version: '',
  registryHost: location.host,
  features: { lifecycle: false, quotas: false },
};
let current: AbortController | undefined;

const main = document.getElementById('main') as HTMLElement;
const account = document.getElementById('account') as HTMLElement;

async function loadSession(): Promise<void> {
  session = await api.session();
  setCsrf(session.csrf);
  drawAccount();
}

function drawAccount(): void {
  clear(account);
  if (!session.authEnabled) return;
  if (session.user) {
    const signOut = h('button', { type: 'button', class: 'link-button' }, 'Sign out');
    signOut.addEventListener('click', () => {
      void api
        .signOut()
        .catch(() => undefined)
        .then(async () => {
          await loadSession();
          navigate('/');
        });
    });
    append(account, [h('span', { class: 'user' }, 'Signed in as ', h('strong', null, session.user)), signOut]);
  } else {
    const here = location.pathname + location.search;
    append(account, [h('a', { href: paths.signin(here === '/signin' ? '/' : here) }, 'Sign in')]);
  }
}

function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (opts.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  void render();
}

function setTitle(text: string, heading?: Node | string): HTMLHeadingElement {
  document.title = `${text} · Stowage`;
  const h1 = h('h1', { tabindex: '-1', id: 'page-title' }, heading ?? text);
  main.prepend(h1);
  return h1;
}

async function render(): Promise<void> {
  current?.abort();
  const controller = new AbortController();
  current = controller;
  const route = parseRoute(location.pathname, location.search);
  clear(main);
  main.setAttribute('aria-busy', 'true');
  const ctx: PageContext = {
    session,
    info,
    main,
    signal: controller.signal,
    navigate,
    refreshSession: loadSession,
    title: setTitle,
  };
  drawAccount();
  try {
    switch (route.page) {
      case 'repositories':
        await renderRepositories(ctx, route.q, route.kind);
        break;
      case 'signin':
        renderSignIn(ctx, route.next);
        break;
      case 'repository':
        await renderRepository(ctx, route.name);
        break;
      case 'artifact':
        await renderArtifact(ctx, route.name, route.ref);
        break;
      case 'files':
        await renderFiles(ctx, route.name, route.ref, route.path, route.layer);
        break;
      case 'not-found':
        setTitle('Not found');
        main.append(h('p', null, 'There is no page here. ', h('a', { href: '/' }, 'See the repositories.')));
        break;
    }
  } catch (e) {
    if (controller.signal.aborted) return;
    showError(e);
  } finally {
    if (!controller.signal.aborted) {
      main.setAttribute('aria-busy', 'false');
      focusHeading();
    }
  }
}

let firstRender = true;

/** After a navigation, focus goes to the new page's heading (not on the first load: the skip link stays first). */
function focusHeading(): void {
  if (firstRender) {
    firstRender = false;
    return;
  }
  document.getElementById('page-title')?.focus();
}

function showError(e: unknown): void {
  clear(main);
  if (e instanceof ApiError && (e.status === 401 || e.status === 404) && session.authEnabled && !session.user) {
    setTitle('Not found');
    main.append(
      h(
        'p',
        null,
        'Nothing public is here. ',
        h('a', { href: paths.signin(location.pathname + location.search) }, 'Sign in'),
        ' to see what you may pull.',
      ),
    );
    return;
  }
  if (e instanceof ApiError && e.status === 404) {
    setTitle('Not found');
    main.append(h('p', null, e.message, ' ', h('a', { href: '/' }, 'See the repositories.')));
    return;
  }
  setTitle('Something went wrong');
  main.append(h('p', { role: 'alert' }, e instanceof Error ? e.message : String(e)));
}

// Same-origin links move within the page; the API, the registry and new tabs are left to the browser.
document.addEventListener('click', (event) => {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey)
    return;
  const a = (event.target as Element | null)?.closest?.('a');
  if (!a || a.target || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || /^\/(?:v2|api|token|metrics|healthz|readyz)(?:\/|$)/.test(url.pathname)) return;
  // In-page anchors (the skip link) are the browser's.
  if (url.hash && url.pathname === location.pathname && url.search === location.search) return;
  event.preventDefault();
  if (url.pathname + url.search !== location.pathname + location.search) navigate(url.pathname + url.search + url.hash);
});
window.addEventListener('popstate', () => void render());

async function start(): Promise<void> {
  try {
    [info] = await Promise.all([api.info(), loadSession()]);
  } catch (e) {
    setTitle('Stowage is not answering');
    main.append(h('p', { role: 'alert' }, e instanceof Error ? e.message : String(e)));
    return;
  }
  await render();
}

void start();
