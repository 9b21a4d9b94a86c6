/**
 * The write coalescing of OPFS sync access handles (worker/database/coalesced-writes.ts), over an
 * in-memory stand-in for `FileSystemSyncAccessHandle` that counts the writes reaching the file
 * (the real handles run under it in every OPFS end-to-end spec, storage-full included): a commit's
 * contiguous frames reach the file as one write at `flush()`; every read, size and truncate sees
 * exactly what was written, in a randomized sequence checked against a plain file; a run is
 * written out in parts past 1 MiB; a write-out the file refuses throws from the call that made it.
 */
import { describe, expect, it } from 'vitest';
import { installWriteCoalescing } from '../../worker/database/coalesced-writes.ts';

/** A file in memory with the sync access handle's methods; `failWrites` makes writes short. */
class MemoryHandle {
  bytes = new Uint8Array(0);
  writes = 0;
  failWrites = false;
  write(buffer: ArrayBufferView, options?: { at?: number }): number {
    this.writes++;
    if (this.failWrites) return 0;
    const at = options?.at ?? 0;
    const data = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    if (at + data.length > this.bytes.length) {
      const grown = new Uint8Array(at + data.length);
      grown.set(this.bytes);
      this.bytes = grown;
    }
    this.bytes.set(data, at);
    return data.length;
  }
  read(buffer: ArrayBufferView, options?: { at?: number }): number {
    const at = options?.at ?? 0;
    const out = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    const part = this.bytes.subarray(Math.min(at, this.bytes.length), Math.min(at + out.length, this.bytes.length));
    out.set(part);
    return part.length;
  }
  getSize(): number {
    return this.bytes.length;
  }
  truncate(size: number): void {
    const next = new Uint8Array(size);
    next.set(this.bytes.subarray(0, Math.min(size, this.bytes.length)));
    this.bytes = next;
  }
  flush(): void {}
  close(): void {}
}

/** The same file without coalescing: what every read must match. */
class PlainFile extends MemoryHandle {}

class CoalescedHandle extends MemoryHandle {}
installWriteCoalescing(CoalescedHandle);

const filled = (size: number, value: number): Uint8Array => new Uint8Array(size).fill(value);

describe('coalesced sync access handle writes', () => {
  it('a commit of contiguous frames reaches the file as one write, at flush', () => {
    const handle = new CoalescedHandle();
    let at = 4096;
    for (let frame = 0; frame < 4; frame++) {
      handle.write(filled(24, frame), { at });
      handle.write(filled(8192, frame + 10), { at: at + 24 });
      at += 24 + 8192;
    }
    expect(handle.writes).toBe(0);
    handle.flush();
    expect(handle.writes).toBe(1);
    expect(handle.getSize()).toBe(at);
    expect(handle.bytes[4096 + 24 + 8192 + 24]).toBe(11);
  });

  it('reads, sizes and truncations see every write, in any order (randomized)', () => {
    const seed = Number(process.env.OVERSQLITE_COALESCE_SEED ?? Date.now() % 1_000_000);
    let state = seed;
    const random = (n: number): number => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state % n;
    };
    const coalesced = new CoalescedHandle();
    const plain = new PlainFile();
    let cursor = 0;
    try {
      for (let step = 0; step < 1500; step++) {
        const op = random(10);
        if (op < 6) {
          // Mostly contiguous runs (as SQLite appends frames), sometimes a jump back or ahead.
          const at = random(5) === 0 ? random(200_000) : cursor;
          const size = 1 + random(random(8) === 0 ? 300_000 : 9000);
          const data = filled(size, 1 + random(255));
          expect(coalesced.write(data, { at })).toBe(size);
          plain.write(data, { at });
          cursor = at + size;
        } else if (op === 6) {
          const at = random(300_000);
          const a = new Uint8Array(1 + random(20_000));
          const b = new Uint8Array(a.length);
          expect(coalesced.read(a, { at })).toBe(plain.read(b, { at }));
          expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
        } else if (op === 7) {
          expect(coalesced.getSize()).toBe(plain.getSize());
        } else if (op === 8) {
          const size = random(250_000);
          coalesced.truncate(size);
          plain.truncate(size);
        } else {
          coalesced.flush();
        }
      }
      coalesced.close();
      expect(Buffer.from(coalesced.bytes).equals(Buffer.from(plain.bytes))).toBe(true);
    } catch (error) {
      console.error(`[coalesced-writes] seed=${seed}`);
      throw error;
    }
  });

  it('writes a run out in parts once it passes 1 MiB', () => {
    const handle = new CoalescedHandle();
    for (let i = 0; i < 300; i++) handle.write(filled(8216, i % 256), { at: i * 8216 });
    expect(handle.writes).toBe(2); // 127 frames fit in 1 MiB: two full runs out, the rest pending
    handle.flush();
    expect(handle.writes).toBe(3);
    expect(handle.getSize()).toBe(300 * 8216);
  });

  it('a write-out the file refuses throws from the call that made it, and the file has none of it', () => {
    const handle = new CoalescedHandle();
    handle.write(filled(100, 1), { at: 0 });
    handle.flush();
    handle.write(filled(100, 2), { at: 100 });
    handle.failWrites = true;
    expect(() => handle.flush()).toThrow(/coalesced write of 100 bytes at 100 wrote 0/);
    handle.failWrites = false;
    expect(handle.getSize()).toBe(100);
    handle.flush();
    expect(handle.writes).toBe(2);
  });
});
