/** Sign in with a registry user's password or a personal access token. */
import { ApiError, api } from './api.js';
import type { PageContext } from './app-state.js';
import { h } from './dom.js';

export function renderSignIn(ctx: PageContext, next: string): void {
  ctx.title('Sign in');
  if (!ctx.session.authEnabled) {
    ctx.main.append(
      h(
        'p',
        null,
        'This registry has no authentication: everyone may browse it. ',
        h('a', { href: '/' }, 'See the repositories.'),
      ),
    );
    return;
  }
  if (ctx.session.user) {
    ctx.main.append(
      h(
        'p',
        null,
        'You are signed in as ',
        h('strong', null, ctx.session.user),
        '. ',
        h('a', { href: next }, 'Continue.'),
      ),
    );
    return;
  }
  const error = h('p', { id: 'signin-error', class: 'error', role: 'alert' });
  const username = h('input', {
    id: 'username',
    name: 'username',
    autocomplete: 'username',
    required: true,
    'aria-describedby': 'signin-error',
  });
  const password = h('input', {
    id: 'password',
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
    'aria-describedby': 'password-hint signin-error',
  });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h(
    'form',
    { class: 'signin card', 'aria-labelledby': 'page-title' },
    h('div', { class: 'field' }, h('label', { for: 'username' }, 'User name'), username),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'password' }, 'Password or access token'),
      password,
      h('p', { id: 'password-hint', class: 'hint' }, 'A personal access token (stw_…) works in place of the password.'),
    ),
    error,
    submit,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submit.disabled = true;
    error.textContent = '';
    api
      .signIn(username.value, password.value)
      .then(async () => {
        await ctx.refreshSession();
        ctx.navigate(next, { replace: true });
      })
      .catch((e: unknown) => {
        submit.disabled = false;
        error.textContent =
          e instanceof ApiError && e.status === 401
            ? 'Wrong user name or password.'
            : e instanceof Error
              ? e.message
              : String(e);
        password.focus();
      });
  });
  ctx.main.append(form);
}
