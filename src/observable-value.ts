/**
 * A value that can be read now and watched for changes (used for the sync status).
 */

/** A readable, subscribable value. */
export interface ObservableValue<T> {
  /** The current value. */
  get(): T;
  /** Calls `listener` with every new value (not the current one); returns the unsubscribe function. */
  subscribe(listener: (value: T) => void): () => void;
}

/** The writable side of an {@link ObservableValue}. */
export class ValueCell<T> implements ObservableValue<T> {
  private readonly listeners = new Set<(value: T) => void>();

  constructor(private value: T) {}

  /** The current value. */
  get(): T {
    return this.value;
  }

  /** Watches for new values. */
  subscribe(listener: (value: T) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Sets a new value and notifies the listeners. */
  set(value: T): void {
    this.value = value;
    for (const listener of this.listeners) listener(value);
  }
}
