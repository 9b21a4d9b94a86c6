/**
 * Contiguous writes to an OPFS sync access handle are gathered into one write
 * (worker/database/opfs-write-gather.ts), written before the file is persisted or changed
 * otherwise (flush = SQLite's xSync, truncate, close, a write elsewhere, the end of the task),
 * and read back laid over the file's bytes without writing. A failed write is thrown to the call
 * that caused it; one at the end of a task is kept for the next call. Exercised on a stand-in
 * handle class (Node has no OPFS) that records the real write calls.
 */
import { describe, expect, it } from 'vitest';
import { GATHER_MAX_BYTES, gatherSyncAccessHandleWrites } from '../../worker/database/opfs-write-gather.ts';

class FakeHandle {
  file = new Uint8Array(0);
  writes: Array<{ at: number; length: number }> = [];
  flushes = 0;
  /** Bytes the next write call writes at most (a full disk), or undefined. */
  room: number | undefined;
  write(buffer: ArrayBufferView, options?: { at?: number }): number {
    const at = options?.at ?? 0;
    const n = Math.min(buffer.byteLength, this.room ?? Infinity);
    this.writes.push({ at, length: n });
    if (at + n > this.file.length) {
      const grown = new Uint8Array(at + n);
      grown.set(this.file);
      this.file = grown;
    }
    this.file.set(new Uint8Array(buffer.buffer, buffer.byteOffset, n), at);
    return n;
  }
  read(buffer: ArrayBufferView, options?: { at?: number }): number {
    const at = options?.at ?? 0;
    const out = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    const part = this.file.subarray(at, at + out.length);
    out.set(part);
    return part.length;
  }
  getSize(): number {
    return this.file.length;
  }
  truncate(size: number): void {
    this.file = this.file.slice(0, size);
  }
  flush(): void {
    this.flushes++;
  }
  close(): void {}
}
gatherSyncAccessHandleWrites(FakeHandle);

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

describe('OPFS writes gathered until the file is read or synced', () => {
  it('writes a commit’s contiguous frame headers and pages as one write at flush', () => {
    const h = new FakeHandle();
    let at = 4096;
    for (let frame = 0; frame < 4; frame++) {
      expect(h.write(bytes(24, frame), { at })).toBe(24);
      expect(h.write(bytes(8192, frame + 10), { at: at + 24 })).toBe(8192);
      at += 8216;
    }
    expect(h.writes).toEqual([]);
    h.flush();
    expect(h.writes).toEqual([{ at: 4096, length: 4 * 8216 }]);
    expect(h.flushes).toBe(1);
    expect(h.file[4096 + 8216 + 24]).toBe(11);
  });

  it('answers reads and the size with the gathered bytes laid over the file, writing nothing', () => {
    const h = new FakeHandle();
    h.write(bytes(10, 1), { at: 0 });
    h.flush();
    h.write(bytes(4, 2), { at: 6 });
    h.write(bytes(4, 3), { at: 10 });
    const out = new Uint8Array(16).fill(9);
    expect(h.read(out, { at: 2 })).toBe(12);
    expect([...out.subarray(0, 12)]).toEqual([1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]);
    expect(h.getSize()).toBe(14);
    expect(h.writes).toHaveLength(1);
    // A run past the file's end: the gap between reads as zeros.
    h.flush();
    h.write(bytes(2, 5), { at: 20 });
    const far = new Uint8Array(10).fill(9);
    expect(h.read(far, { at: 12 })).toBe(10);
    expect([...far]).toEqual([3, 3, 0, 0, 0, 0, 0, 0, 5, 5]);
  });

  it('writes what is gathered before a truncate and a close', () => {
    const h = new FakeHandle();
    h.write(bytes(5, 3), { at: 0 });
    h.write(bytes(5, 4), { at: 5 });
    h.truncate(8);
    expect([...h.file]).toEqual([3, 3, 3, 3, 3, 4, 4, 4]);
    h.write(bytes(2, 5), { at: 8 });
    h.close();
    expect(h.file.length).toBe(10);
  });

  it('writes the run before a write elsewhere, so a later write over it wins', () => {
    const h = new FakeHandle();
    h.write(bytes(8, 1), { at: 100 });
    h.write(bytes(8, 2), { at: 108 });
    h.write(bytes(4, 9), { at: 104 });
    h.flush();
    expect(h.writes).toEqual([
      { at: 100, length: 16 },
      { at: 104, length: 4 },
    ]);
    expect([...h.file.subarray(100, 116)]).toEqual([1, 1, 1, 1, 9, 9, 9, 9, 2, 2, 2, 2, 2, 2, 2, 2]);
  });

  it('copies the caller’s bytes, which the caller may reuse at once', () => {
    const h = new FakeHandle();
    const shared = bytes(4, 7);
    h.write(shared, { at: 0 });
    shared.fill(0);
    h.flush();
    expect([...h.file]).toEqual([7, 7, 7, 7]);
  });

  it('writes at the end of the task without a flush', async () => {
    const h = new FakeHandle();
    h.write(bytes(4, 1), { at: 0 });
    h.write(bytes(4, 2), { at: 4 });
    await Promise.resolve();
    expect(h.writes).toEqual([{ at: 0, length: 8 }]);
    expect(h.flushes).toBe(0);
  });

  it('does not hold more than the bound in memory', () => {
    const h = new FakeHandle();
    const chunk = GATHER_MAX_BYTES / 4;
    for (let i = 0; i < 6; i++) h.write(bytes(chunk, i), { at: i * chunk });
    expect(h.writes).toEqual([{ at: 0, length: GATHER_MAX_BYTES }]);
    h.flush();
    expect(h.writes.at(-1)).toEqual({ at: GATHER_MAX_BYTES, length: 2 * chunk });
  });

  it('throws a refused write to the sync that caused it, as a write failing on its own would', () => {
    const h = new FakeHandle();
    h.write(bytes(8, 1), { at: 0 });
    h.room = 3;
    expect(() => h.flush()).toThrow(/wrote 3/);
    expect(h.flushes).toBe(0);
    h.room = undefined;
    h.flush();
    expect(h.writes).toEqual([{ at: 0, length: 3 }]);
    expect(h.flushes).toBe(1);
  });

  it('keeps a write refused at the end of a task and reports it at the next sync', async () => {
    const h = new FakeHandle();
    h.write(bytes(8, 1), { at: 0 });
    h.room = 3;
    await Promise.resolve();
    const out = new Uint8Array(8);
    expect(h.read(out, { at: 0 })).toBe(8);
    expect([...out]).toEqual([...bytes(8, 1)]);
    expect(() => h.flush()).toThrow(/wrote 3/);
    h.room = undefined;
    h.write(bytes(8, 2), { at: 0 });
    h.flush();
    expect([...h.file]).toEqual([...bytes(8, 2)]);
  });
});
