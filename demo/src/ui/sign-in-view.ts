/**
 * The sign-in screen: a user name and password for the reference server's development sign-in.
 * Two browsers signed in as the same user see the same data.
 */
import { h } from './dom.ts';

/** Renders the sign-in card; `onSignIn` rejects with a message to show. */
export function signInView(serverUrl: string, onSignIn: (user: string, password: string) => Promise<void>): HTMLElement {
  const user = h('input', { name: 'user', autocomplete: 'username', required: true, placeholder: 'alice', 'data-testid': 'signin-user' });
  const password = h('input', {
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    placeholder: 'any password',
    'data-testid': 'signin-password',
  });
  const error = h('p', { class: 'form-error', 'data-testid': 'signin-error' });
  const submit = h('button', { type: 'submit', class: 'primary', 'data-testid': 'signin-submit' }, 'Sign in');
  const form = h(
    'form',
    {
      class: 'card signin',
      onsubmit: (event: Event) => {
        event.preventDefault();
        submit.disabled = true;
        error.textContent = '';
        onSignIn(user.value.trim(), password.value).catch((e: unknown) => {
          error.textContent = e instanceof Error ? e.message : String(e);
          submit.disabled = false;
        });
      },
    },
    h('div', { class: 'brand' }, h('img', { src: './icon.svg', alt: '', width: 40, height: 40 }), h('h1', {}, 'oversqlite demo')),
    h(
      'p',
      { class: 'muted' },
      'Projects and tasks in SQLite in your browser, synced with PostgreSQL. Sign in as the same user in two browsers to watch them converge; go offline and keep working.',
    ),
    h('label', {}, 'User', user),
    h('label', {}, 'Password', password),
    submit,
    error,
    h('p', { class: 'hint' }, 'Development sign-in at ', h('code', { 'data-testid': 'server-url' }, serverUrl), '.'),
  );
  queueMicrotask(() => user.focus());
  return h('main', { class: 'signin-page' }, form);
}
