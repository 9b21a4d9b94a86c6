/**
 * Snapshot builds that continue after their create was answered (see `createSnapshotSession`):
 * the ones running in this server instance, so chunk reads waiting for their rows wake when a
 * piece commits, and `close()` can stop them and wait for them. Chunk reads served by another
 * process (or server instance) do not hear these wake-ups; they poll (`readSnapshotChunk`).
 */
export class SnapshotBuildTracker {
  #waiters = new Map<string, Set<() => void>>();
  #running = new Map<Promise<void>, () => void>();
  #stopping = false;

  /** Resolves at the next progress of build `snapshotId` in this instance (or never). */
  nextProgress(snapshotId: string): { promise: Promise<void>; cancel: () => void } {
    let set = this.#waiters.get(snapshotId);
    if (!set) this.#waiters.set(snapshotId, (set = new Set()));
    let wake!: () => void;
    const promise = new Promise<void>((resolve) => (wake = resolve));
    set.add(wake);
    const waiters = set;
    const cancel = () => {
      waiters.delete(wake);
      if (waiters.size === 0 && this.#waiters.get(snapshotId) === waiters) this.#waiters.delete(snapshotId);
    };
    return { promise, cancel };
  }

  /** A piece of `snapshotId` committed, or its build ended: wakes every waiter. */
  progressed(snapshotId: string): void {
    const set = this.#waiters.get(snapshotId);
    if (!set) return;
    this.#waiters.delete(snapshotId);
    for (const wake of set) wake();
  }

  /**
   * Keeps `build` until it settles (it must not reject); `interrupt` stops it at once, called
   * here already for a build started while the server closes (its create was in flight).
   */
  track(build: Promise<void>, interrupt: () => void): void {
    this.#running.set(build, interrupt);
    void build.finally(() => this.#running.delete(build));
    if (this.#stopping) interrupt();
  }

  /** Stops every build now (their pieces in progress cancelled) and waits for them. */
  async stop(): Promise<void> {
    this.#stopping = true;
    for (const interrupt of this.#running.values()) interrupt();
    await Promise.all([...this.#running.keys()]);
  }
}
