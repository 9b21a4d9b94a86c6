/**
 * One OPFS write per commit instead of two per WAL frame. SQLite writes each WAL frame as two
 * calls (its 24-byte header, then the page), and opfs-sahpool hands each call to the file's sync
 * access handle; in Chromium a commit pays per write call far more than per byte
 * (bench/probes/opfs-commit-writes.ts: a 3-page commit written that way costs ~20 % more than a
 * 2-page one, the same bytes in one write ~0–10 %). So writes that continue the previous one on
 * the same handle are gathered in memory and written as one when the file is to be persisted or
 * changed otherwise: `flush` (SQLite's xSync), `truncate`, `close`, a write elsewhere in the file,
 * or {@link GATHER_MAX_BYTES} gathered. `read` and `getSize` answer with the gathered bytes laid
 * over the file's, so reading never needs a write (and keeps working on a full disk).
 *
 * Durability is unchanged: SQLite counts nothing as durable before xSync, and xSync now writes the
 * gathered bytes before it flushes. What is gathered is also written at the end of the current
 * task (a microtask), so a connection running with `synchronous` below FULL keeps what it had:
 * its writes reach the file before any caller hears of the commit. A failed write is thrown to
 * the call that caused it (xSync, xWrite, xTruncate: SQLite then fails the transaction, whose
 * unsynced frames it never reads again) and its bytes are dropped, as a write that failed on its
 * own would leave them; one that fails at the end of a task has no caller, so its bytes stay
 * gathered and the next such call retries and reports it.
 */

/** The slice of `FileSystemSyncAccessHandle` this layer wraps. */
interface SyncAccessHandleMethods {
  write(buffer: ArrayBufferView, options?: { at?: number }): number;
  read(buffer: ArrayBufferView, options?: { at?: number }): number;
  getSize(): number;
  truncate(size: number): void;
  flush(): void;
  close(): void;
}

/** A run of contiguous bytes not written yet, starting at file offset `at`. */
interface Gathered {
  at: number;
  bytes: Uint8Array;
  length: number;
}

/** Beyond this many gathered bytes the run is written (a large transaction spilling frames is not held in memory). */
export const GATHER_MAX_BYTES = 1 << 20;

const installedOn = new WeakSet<object>();

/**
 * Whether writes are gathered (default true). Only measurements switch it off (the bench's
 * interleaved A/B in one page, bench/probes/opfs-gather-browser.ts); what was gathered is still
 * written before the next write passes through.
 */
export const writeGathering = { enabled: true };

/**
 * Wraps the methods of `handleClass` (the worker's `FileSystemSyncAccessHandle`) so that
 * contiguous writes are gathered as described above. Idempotent per class. Install it after any
 * other wrapper of the same methods whose wrapped `write` must see the real write calls (the
 * quota probe, quota-check.ts): this layer calls the methods it found.
 */
export function gatherSyncAccessHandleWrites(handleClass: { prototype: object }): void {
  const proto = handleClass.prototype as SyncAccessHandleMethods;
  if (installedOn.has(proto)) return;
  installedOn.add(proto);
  const original = {
    write: proto.write,
    read: proto.read,
    getSize: proto.getSize,
    truncate: proto.truncate,
    flush: proto.flush,
    close: proto.close,
  };
  const gathered = new WeakMap<SyncAccessHandleMethods, Gathered>();
  const due = new Set<SyncAccessHandleMethods>();
  let scheduled = false;

  /**
   * Writes what `handle` has gathered. On failure it throws; with `report` (the caller passes the
   * failure on to SQLite) the bytes are dropped first, else kept for the next call.
   */
  const writeGathered = (handle: SyncAccessHandleMethods, report: boolean): void => {
    const run = gathered.get(handle);
    if (run === undefined) return;
    if (report) {
      gathered.delete(handle);
      due.delete(handle);
    }
    const bytes = run.bytes.subarray(0, run.length);
    const written = original.write.call(handle, bytes, { at: run.at });
    // Chromium reports a refused write as a short (or wrapped negative) count, not a throw.
    if (written !== run.length) throw new Error(`OPFS write of ${run.length} bytes at ${run.at} wrote ${written}`);
    gathered.delete(handle);
    due.delete(handle);
  };
  const endOfTask = (): void => {
    scheduled = false;
    for (const handle of [...due]) {
      try {
        writeGathered(handle, false);
      } catch {
        // Kept gathered: the next flush, truncate, close or write retries it and reports the failure.
      }
    }
  };
  const before = <A extends unknown[], R>(method: (this: SyncAccessHandleMethods, ...args: A) => R) =>
    function (this: SyncAccessHandleMethods, ...args: A): R {
      writeGathered(this, true);
      return method.apply(this, args);
    };

  proto.truncate = before(original.truncate);
  proto.flush = before(original.flush);
  proto.close = before(original.close);
  proto.getSize = function (this: SyncAccessHandleMethods): number {
    const size = original.getSize.call(this);
    const run = gathered.get(this);
    return run === undefined ? size : Math.max(size, run.at + run.length);
  };
  proto.read = function (this: SyncAccessHandleMethods, buffer: ArrayBufferView, options?: { at?: number }): number {
    const run = gathered.get(this);
    if (run === undefined) return original.read.call(this, buffer, options);
    const at = options?.at;
    // Without an offset the handle's own cursor decides: write first (sahpool always passes one).
    if (at === undefined) {
      writeGathered(this, true);
      return original.read.call(this, buffer, options);
    }
    let got = original.read.call(this, buffer, options);
    const start = Math.max(at, run.at);
    const end = Math.min(at + buffer.byteLength, run.at + run.length);
    if (start < end) {
      const out = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
      // Past the file's end and before the gathered bytes: a hole, which reads as zeros.
      if (got < start - at) out.fill(0, got, start - at);
      out.set(run.bytes.subarray(start - run.at, end - run.at), start - at);
      got = Math.max(got, end - at);
    }
    return got;
  };
  proto.write = function (this: SyncAccessHandleMethods, buffer: ArrayBufferView, options?: { at?: number }): number {
    const at = options?.at;
    const n = buffer.byteLength;
    const run = gathered.get(this);
    if (!writeGathering.enabled) {
      writeGathered(this, true);
      return original.write.call(this, buffer, options);
    }
    if (at !== undefined && run !== undefined && at === run.at + run.length && run.length + n <= GATHER_MAX_BYTES) {
      if (run.length + n > run.bytes.length) {
        const grown = new Uint8Array(Math.min(GATHER_MAX_BYTES, Math.max(run.bytes.length * 2, run.length + n)));
        grown.set(run.bytes.subarray(0, run.length));
        run.bytes = grown;
      }
      run.bytes.set(new Uint8Array(buffer.buffer, buffer.byteOffset, n), run.length);
      run.length += n;
      return n;
    }
    writeGathered(this, true);
    // Without an offset the handle's own cursor decides where it lands: not gathered.
    if (at === undefined || n > GATHER_MAX_BYTES) return original.write.call(this, buffer, options);
    // A copy: the caller's view is wasm memory that SQLite reuses as soon as this returns.
    const bytes = new Uint8Array(Math.max(n, 64 * 1024));
    bytes.set(new Uint8Array(buffer.buffer, buffer.byteOffset, n));
    gathered.set(this, { at, bytes, length: n });
    due.add(this);
    if (!scheduled) {
      scheduled = true;
      queueMicrotask(endOfTask);
    }
    return n;
  };
}
