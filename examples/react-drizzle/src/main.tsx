/**
 * Opens the database (syncing with an oversync server, `npm run server` by default), signs the
 * user in with the reference server's development sign-in, and renders the app.
 * `?server=<url>&user=<name>` pick another server or user.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { openDatabase } from 'oversqlite';
import { OversqliteProvider } from 'oversqlite/react';
import { App } from './App.tsx';
import { appSchema, syncedTables } from './schema.ts';

const params = new URLSearchParams(location.search);
const serverUrl = params.get('server') ?? 'http://localhost:8080';
const user = params.get('user') ?? 'alice';

const db = await openDatabase({
  name: `react-drizzle-${user}`,
  schema: appSchema,
  sync: {
    serverUrl,
    remoteSchema: 'business',
    tables: syncedTables,
    getToken: async () => {
      // The reference server's development sign-in; use your own auth in a real app.
      const res = await fetch(`${serverUrl}/dummy-signin`, { method: 'POST', body: JSON.stringify({ user, password: 'x' }) });
      if (!res.ok) throw new Error(`sign-in failed: ${res.status}`);
      return ((await res.json()) as { token: string }).token;
    },
    autoSync: { debounceMs: 100, watch: true },
  },
});

createRoot(document.getElementById('app')!).render(
  <StrictMode>
    <OversqliteProvider database={db}>
      <App />
    </OversqliteProvider>
  </StrictMode>,
);

// Sign in: connects and brings the server's data down the first time, resumes later (offline too).
db.sync.attach(user).then(
  () => document.body.setAttribute('data-attached', user),
  (e: { code?: string; message?: string }) =>
    document.body.setAttribute('data-attach-error', `${e.code ?? 'error'}: ${e.message ?? String(e)}`),
);
