/**
 * The demo's entry: registers the offline service worker, then shows the sign-in screen or, for
 * the user remembered on this device, opens the local database and the app straight away (no
 * network needed: the data is in OPFS).
 */
import { mountApp } from './app.ts';
import { serverUrl } from './config.ts';
import { registerServiceWorker } from './pwa.ts';
import { devSignIn, rememberedUser, rememberUser, userStorageKey } from './session.ts';
import { openDemoDatabase } from './store.ts';
import { h } from './ui/dom.ts';
import { signInView } from './ui/sign-in-view.ts';

const root = document.getElementById('app')!;

async function start(user: string): Promise<void> {
  const database = await openDemoDatabase();
  mountApp(root, database, user, {
    signedOut: () => {
      rememberUser(null);
      // A fresh page drops this user's screens, live queries and subscriptions in one go.
      location.reload();
    },
  });
  document.body.dataset.state = 'app';
}

function showSignIn(): void {
  root.replaceChildren(
    signInView(serverUrl, async (user, password) => {
      if (user === '') throw new Error('Enter a user name.');
      // Signing in checks the credentials with the server; the token itself is fetched again by getToken().
      const response = await devSignIn(serverUrl, user, password);
      rememberUser({ user: response.user, password });
      await start(response.user);
    }),
  );
  document.body.dataset.state = 'signin';
}

function showFatal(error: unknown): void {
  root.replaceChildren(
    h(
      'main',
      { class: 'signin-page' },
      h(
        'section',
        { class: 'card signin' },
        h('h1', {}, 'The app could not start'),
        h('p', { class: 'form-error', 'data-testid': 'fatal-error' }, error instanceof Error ? error.message : String(error)),
      ),
    ),
  );
  document.body.dataset.state = 'error';
}

// Signing in or out in another tab of this origin: follow it here.
window.addEventListener('storage', (event: StorageEvent) => {
  if (event.key !== userStorageKey) return;
  const signedOutThere = event.newValue === null;
  const signedInThere = event.newValue !== null && document.body.dataset.state === 'signin';
  if (signedOutThere || signedInThere) location.reload();
});

void registerServiceWorker().catch((error: unknown) => console.warn('Service worker registration failed:', error));
const remembered = rememberedUser();
if (remembered === null) showSignIn();
else start(remembered.user).catch(showFatal);
