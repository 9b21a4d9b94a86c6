/**
 * Small per-device facts kept outside SQLite (in IndexedDB through idb-keyval), so they are
 * readable before any database is open: for example which user signed in last, to offer the
 * right account at startup. Never tokens.
 */
import { createStore, del, get, set } from 'idb-keyval';
import type { UseStore } from 'idb-keyval';

let store: UseStore | undefined;

function deviceStore(): UseStore {
  store ??= createStore('oversqlite-device', 'state');
  return store;
}

/** The user last attached to database `name` on this device, or null. */
export async function lastAttachedUser(name: string): Promise<string | null> {
  const value = await get<string>(`last-user:${name}`, deviceStore());
  return typeof value === 'string' ? value : null;
}

/** Records (or, with null, clears) the user attached to database `name`. */
export async function rememberAttachedUser(name: string, userId: string | null): Promise<void> {
  if (userId === null) await del(`last-user:${name}`, deviceStore());
  else await set(`last-user:${name}`, userId, deviceStore());
}
