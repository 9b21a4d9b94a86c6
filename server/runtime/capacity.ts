/** A per-process concurrency gate: admits up to `limit` holders, refuses the rest immediately. */
export class CapacityGate {
  private active = 0;
  constructor(private readonly limit: number) {}

  /** Takes a slot, or returns null when the gate is full. The returned function releases it. */
  tryAcquire(): (() => void) | null {
    if (this.limit > 0 && this.active >= this.limit) return null;
    this.active++;
    let released = false;
    return () => {
      if (!released) {
        released = true;
        this.active--;
      }
    };
  }
}
