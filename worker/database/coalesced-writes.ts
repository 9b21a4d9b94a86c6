/**
 * Contiguous writes to an OPFS sync access handle, coalesced into one. The opfs-sahpool VFS passes
 * each SQLite write straight to `write()`, and a commit is many small contiguous writes (a WAL
 * frame is a 24-byte header and a page, and the commit pads to the sector), each of which costs
 * the same as a large one: measured in Chromium, a third page in a commit adds ~0.09 ms written
 * frame by frame and nothing written at once (bench/probes/opfs-commit-writes.ts).
 *
 * Each handle keeps at most one pending run: a write that continues it is copied in; anything
 * else first writes the run out. `flush()` (SQLite's xSync) and `close()` write it out before
 * they run, as do `read()`, `getSize()` and `truncate()`, so the file reads exactly as if every
 * write had gone through at once, and nothing the VFS makes durable is held back: sahpool follows
 * every header write with `flush()` or `close()`, and SQLite syncs before it relies on a write.
 * A run that fails when written out (the quota) throws from the call that writes it, which the
 * VFS reports to SQLite as an I/O error, as it would the write itself.
 */

/** A run is written out once it reaches this size (bounds memory during a large transaction). */
const MAX_RUN_BYTES = 1 << 20;

export interface SyncAccessHandleLike {
  write(buffer: ArrayBufferView, options?: { at?: number }): number;
  read(buffer: ArrayBufferView, options?: { at?: number }): number;
  getSize(): number;
  truncate(size: number): void;
  flush(): void;
  close(): void;
}

/** The pending run of one handle: bytes [at, at + length) not yet written. */
interface Run {
  at: number;
  length: number;
  bytes: Uint8Array;
}

const patched = new WeakSet<SyncAccessHandleLike>();

/**
 * Wraps `FileSystemSyncAccessHandle` (only present in dedicated workers; a test passes its own
 * class) so that contiguous writes are coalesced. Idempotent; install after the quota probe
 * (quota-check.ts), so that the writes that do reach the file still pass through it.
 */
export function installWriteCoalescing(
  handleClass = (globalThis as unknown as { FileSystemSyncAccessHandle?: { prototype: SyncAccessHandleLike } }).FileSystemSyncAccessHandle,
): void {
  if (handleClass === undefined || patched.has(handleClass.prototype)) return;
  const proto = handleClass.prototype;
  patched.add(proto);
  const original = {
    write: proto.write,
    read: proto.read,
    getSize: proto.getSize,
    truncate: proto.truncate,
    flush: proto.flush,
    close: proto.close,
  };
  const runs = new WeakMap<SyncAccessHandleLike, Run>();

  const writeOut = (handle: SyncAccessHandleLike): void => {
    const run = runs.get(handle);
    if (run === undefined || run.length === 0) return;
    const length = run.length;
    run.length = 0;
    const written = original.write.call(handle, run.bytes.subarray(0, length), { at: run.at });
    if (written !== length) {
      throw new Error(`a coalesced write of ${length} bytes at ${run.at} wrote ${written >>> 0} (the storage quota?)`);
    }
  };

  proto.write = function (this: SyncAccessHandleLike, buffer: ArrayBufferView, options?: { at?: number }): number {
    const at = options?.at;
    const size = buffer.byteLength;
    if (at === undefined || size >= MAX_RUN_BYTES) {
      writeOut(this);
      return original.write.call(this, buffer, options);
    }
    let run = runs.get(this);
    if (run !== undefined && run.length > 0 && (at !== run.at + run.length || run.length + size > MAX_RUN_BYTES)) {
      writeOut(this);
    }
    if (run === undefined) {
      run = { at, length: 0, bytes: new Uint8Array(Math.max(64 * 1024, size)) };
      runs.set(this, run);
    }
    if (run.length === 0) run.at = at;
    if (run.length + size > run.bytes.length) {
      const grown = new Uint8Array(Math.min(MAX_RUN_BYTES, Math.max(run.bytes.length * 2, run.length + size)));
      grown.set(run.bytes.subarray(0, run.length));
      run.bytes = grown;
    }
    // A copy: the caller's buffer (SQLite's heap) is reused as soon as this returns.
    run.bytes.set(new Uint8Array(buffer.buffer, buffer.byteOffset, size), run.length);
    run.length += size;
    return size;
  };
  proto.read = function (this: SyncAccessHandleLike, buffer: ArrayBufferView, options?: { at?: number }): number {
    writeOut(this);
    return original.read.call(this, buffer, options);
  };
  proto.getSize = function (this: SyncAccessHandleLike): number {
    writeOut(this);
    return original.getSize.call(this);
  };
  proto.truncate = function (this: SyncAccessHandleLike, size: number): void {
    writeOut(this);
    original.truncate.call(this, size);
  };
  proto.flush = function (this: SyncAccessHandleLike): void {
    writeOut(this);
    original.flush.call(this);
  };
  proto.close = function (this: SyncAccessHandleLike): void {
    try {
      writeOut(this);
    } finally {
      runs.delete(this);
      original.close.call(this);
    }
  };
}
