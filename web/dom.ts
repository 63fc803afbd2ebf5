/**
 * Building the page: elements are made with `h()`, and every string from the
 * server goes in as text (textContent), never as markup. The one exception is
 * `trustedHtml()`, for HTML the server has already sanitised (chart READMEs,
 * Markdown files), which is scrubbed once more here before it is inserted.
 */

export type Child = Node | string | number | null | undefined | false | readonly Child[];
type AttrValue = string | number | boolean | null | undefined | EventListener;
export type Attrs = Record<string, AttrValue>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === 'function') {
      el.addEventListener(key.replace(/^on/, ''), value);
    } else if (key === 'class') {
      el.className = String(value);
    } else if (key === 'href' && !isSafeHref(String(value))) {
      // A link to anything but this origin or http(s) is dropped, not followed.
      continue;
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: readonly Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child as readonly Child[]);
    else if (child instanceof Node) parent.appendChild(child);
    else parent.appendChild(document.createTextNode(String(child)));
  }
}

/** Same-origin paths, fragments and http(s) URLs; never javascript:, data: or the like. */
export function isSafeHref(href: string): boolean {
  if (href.startsWith('/') && !href.startsWith('//')) return true;
  if (href.startsWith('#') || href.startsWith('?')) return true;
  try {
    const url = new URL(href);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

const DROPPED_ELEMENTS =
  'script,style,iframe,frame,frameset,object,embed,link,meta,base,form,input,button,textarea,select';

/**
 * Inserts HTML the server sanitised. Parsed inert (a template runs nothing), then
 * anything that could act is removed once more: this page must stay inert even if
 * a server bug let something through.
 */
export function trustedHtml(html: string): DocumentFragment {
  const template = document.createElement('template');
  template.innerHTML = html;
  const root = template.content;
  for (const el of Array.from(root.querySelectorAll(DROPPED_ELEMENTS))) el.remove();
  for (const el of Array.from(root.querySelectorAll('*'))) {
    for (const attr of Array.from(el.attributes)) {
      const name = attr.name.toLowerCase();
      const urlAttr = name === 'href' || name === 'src' || name === 'xlink:href' || name === 'action';
      if (name.startsWith('on') || name === 'style' || name === 'srcdoc' || (urlAttr && !isSafeHref(attr.value))) {
        el.removeAttribute(attr.name);
      }
    }
    if (el.tagName === 'A') {
      el.setAttribute('rel', 'noopener noreferrer nofollow');
    }
    // Images only from this origin or data: (the CSP says the same).
    if (el.tagName === 'IMG') {
      const src = el.getAttribute('src') ?? '';
      if (!src.startsWith('/') && !src.startsWith('data:image/')) el.removeAttribute('src');
    }
  }
  return root;
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v < 10 ? v.toFixed(1) : Math.round(v)} ${UNITS[u]}`;
}

/** A <time> in UTC ("2026-12-04 18:22 UTC"), the exact value in its datetime. */
export function time(value: string | null | undefined): HTMLElement | string {
  if (!value) return '—';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return value;
  const text = `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return h('time', { datetime: value, title: value }, text);
}

export function shortDigest(digest: string): string {
  const i = digest.indexOf(':');
  return i === -1 ? digest.slice(0, 19) : `${digest.slice(0, i + 1)}${digest.slice(i + 1, i + 13)}`;
}

/** The polite live region every page announces results and actions in. */
export function announce(message: string): void {
  const region = document.getElementById('announcer');
  if (!region) return;
  region.textContent = '';
  // A fresh text node so screen readers read a repeated message again.
  window.setTimeout(() => (region.textContent = message), 30);
}

export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = h('textarea', { class: 'offscreen', 'aria-hidden': 'true', tabindex: '-1' });
    area.value = text;
    document.body.appendChild(area);
    area.select();
    const ok = document.execCommand('copy');
    area.remove();
    return ok;
  }
}

/** A button that copies `text`, labelled with what it copies. */
export function copyButton(text: string, what: string): HTMLButtonElement {
  const button = h(
    'button',
    { type: 'button', class: 'copy', 'aria-label': `Copy ${what}`, title: `Copy ${what}` },
    'Copy',
  );
  button.addEventListener('click', () => {
    void copyText(text).then((ok) => {
      button.textContent = ok ? 'Copied' : 'Copy failed';
      announce(ok ? `Copied ${what}` : `Could not copy ${what}`);
      window.setTimeout(() => (button.textContent = 'Copy'), 1500);
    });
  });
  return button;
}

/** A definition list of label → value rows; rows whose value is empty are left out. */
export function facts(rows: readonly [string, Child][]): HTMLDListElement {
  const dl = h('dl', { class: 'facts' });
  for (const [label, value] of rows) {
    if (value === null || value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) continue;
    dl.append(h('dt', null, label), h('dd', null, value));
  }
  return dl;
}

export function section(title: string, id: string, ...children: Child[]): HTMLElement {
  const headingId = `${id}-h`;
  return h(
    'section',
    { 'aria-labelledby': headingId, class: 'card', id },
    h('h2', { id: headingId }, title),
    ...children,
  );
}

/** A table with a caption (visually hidden when `hiddenCaption`) and header cells. */
export function table(
  caption: string,
  headers: readonly string[],
  rows: readonly Child[][],
  hiddenCaption = true,
): HTMLElement {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      null,
      h('caption', hiddenCaption ? { class: 'offscreen' } : null, caption),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          headers.map((t) => h('th', { scope: 'col' }, t)),
        ),
      ),
      h(
        'tbody',
        null,
        rows.map((cells) =>
          h(
            'tr',
            null,
            cells.map((c) => h('td', null, c)),
          ),
        ),
      ),
    ),
  );
}
