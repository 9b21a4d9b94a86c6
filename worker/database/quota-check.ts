/**
 * The opfs-sahpool VFS reports a write refused for lack of quota as a plain SQLITE_IOERR ("disk
 * I/O error"); Chromium signals it through write()'s return value (see below), other browsers
 * with QuotaExceededError. To still tell the app plainly that
 * storage is full, this module watches the sync access handles of its own worker for both, and an
 * I/O error that follows one is re-classified as `storage_full`.
 * Where no such error was seen, an origin at its quota (per `navigator.storage.estimate()`) also
 * counts.
 */
import { OversqliteError } from './errors.ts';
import type { OversqliteErrorShape } from './errors.ts';

const SQLITE_IOERR = 10;
const HEADROOM_BYTES = 1024 * 1024;
/** `base::File::FILE_ERROR_NO_SPACE` (-8) as Chromium's sync access handle returns it from write(). */
const CHROMIUM_FILE_ERROR_NO_SPACE = 2 ** 32 - 8;
/** A quota failure older than this no longer explains a new I/O error. */
const QUOTA_ERROR_WINDOW_MS = 5_000;

let lastQuotaErrorAt = -Infinity;
let probeInstalled = false;

/**
 * Wraps the write-side methods of `FileSystemSyncAccessHandle` (only present in dedicated
 * workers) to note QuotaExceededError before rethrowing it unchanged. Idempotent.
 */
export function installQuotaErrorProbe(): void {
  if (probeInstalled) return;
  probeInstalled = true;
  const handleClass = (globalThis as unknown as { FileSystemSyncAccessHandle?: { prototype: Record<string, unknown> } })
    .FileSystemSyncAccessHandle;
  if (handleClass === undefined) return;
  for (const method of ['write', 'truncate', 'flush']) {
    const original = handleClass.prototype[method];
    if (typeof original !== 'function') continue;
    handleClass.prototype[method] = function (this: unknown, ...args: unknown[]) {
      try {
        const result = (original as (...a: unknown[]) => unknown).apply(this, args);
        // Chromium 156 does not throw for a write beyond the quota: it returns base::File's
        // FILE_ERROR_NO_SPACE (-8) as an unsigned 32-bit count (measured), and the VFS then fails
        // with "Unknown write() failure". A short write means the same.
        if (method === 'write' && typeof result === 'number') {
          const requested = (args[0] as ArrayBufferView | undefined)?.byteLength ?? 0;
          if (result === CHROMIUM_FILE_ERROR_NO_SPACE || result < requested) lastQuotaErrorAt = Date.now();
        }
        return result;
      } catch (error) {
        if ((error as { name?: string })?.name === 'QuotaExceededError') lastQuotaErrorAt = Date.now();
        throw error;
      }
    };
  }
}

/** Whether an error shape is a SQLite I/O error. */
function isIoError(shape: OversqliteErrorShape): boolean {
  return shape.sqliteCode !== undefined && (shape.sqliteCode & 0xff) === SQLITE_IOERR;
}

/** Whether the origin is at its storage quota, per `navigator.storage.estimate()`. */
async function originAtQuota(): Promise<boolean> {
  const storage = (globalThis as { navigator?: { storage?: StorageManager } }).navigator?.storage;
  if (storage?.estimate === undefined) return false;
  try {
    const { usage, quota } = await storage.estimate();
    return usage !== undefined && quota !== undefined && quota - usage <= HEADROOM_BYTES;
  } catch {
    return false;
  }
}

/** Re-classifies an I/O error as `storage_full` when it was caused by the quota. */
export async function classifyIoError(shape: OversqliteErrorShape): Promise<OversqliteErrorShape> {
  if (!isIoError(shape)) return shape;
  const quotaHit = Date.now() - lastQuotaErrorAt <= QUOTA_ERROR_WINDOW_MS || (await originAtQuota());
  if (!quotaHit) return shape;
  return new OversqliteError(
    'storage_full',
    `Storage is full (out of quota: ${shape.message}). The write was rolled back; free space or ask the user to allow more storage.`,
    shape.sqliteCode !== undefined ? { sqliteCode: shape.sqliteCode } : {},
  ).toShape();
}
