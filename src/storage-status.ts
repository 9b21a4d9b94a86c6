/**
 * Persistent-storage status of the origin. Browsers may evict non-persistent OPFS data under
 * storage pressure, so the app should know whether its data is protected.
 */
import type { StorageKind } from '../worker/database/storage-kinds.ts';
import { storageDescriptor } from '../worker/database/storage-kinds.ts';

/** How safe the stored data is, and how much room is left. */
export interface StorageStatus {
  /** `'opfs'` (on disk) or `'memory'` (gone when the tab closes). */
  readonly kind: StorageKind;
  /** Whether the browser granted persistent storage (data is not evicted under pressure). */
  readonly persisted: boolean;
  /** Bytes used by this origin, if the browser reports it. */
  readonly usage: number | null;
  /** Bytes this origin may use, if the browser reports it. */
  readonly quota: number | null;
}

/** Asks the browser to make this origin's storage persistent; returns whether it is. */
export async function requestPersistentStorage(): Promise<boolean> {
  const storage = globalThis.navigator?.storage;
  if (storage?.persist === undefined) return false;
  try {
    return (await storage.persisted()) || (await storage.persist());
  } catch {
    return false; // some browsers reject outside a user gesture; the status still reports it
  }
}

/** Reads the current storage status. */
export async function readStorageStatus(kind: StorageKind): Promise<StorageStatus> {
  const storage = globalThis.navigator?.storage;
  const persisted = storageDescriptor(kind).persistable && storage?.persisted !== undefined ? await storage.persisted() : false;
  const estimate = storage?.estimate !== undefined ? await storage.estimate() : undefined;
  return { kind, persisted, usage: estimate?.usage ?? null, quota: estimate?.quota ?? null };
}
