/** Reads Server-Sent Events frames from a fetch response body, one frame at a time. */

/** One parsed frame: `event`/`data` fields, or a comment line. */
export interface SseFrame {
  event?: string;
  data?: string;
  comment?: string;
}

/** Incremental frame reader over a streaming response. */
export class SseReader {
  private buffer = '';
  private readonly decoder = new TextDecoder();
  constructor(private readonly reader: ReadableStreamDefaultReader<Uint8Array>) {}

  /** Resolves with the next complete frame, or null at end of stream. */
  async next(): Promise<SseFrame | null> {
    for (;;) {
      const end = this.buffer.indexOf('\n\n');
      if (end >= 0) {
        const raw = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        const frame: SseFrame = {};
        for (const line of raw.split('\n')) {
          if (line.startsWith(':')) frame.comment = line.slice(1).trim();
          else if (line.startsWith('event: ')) frame.event = line.slice(7);
          else if (line.startsWith('data: ')) frame.data = (frame.data ? frame.data + '\n' : '') + line.slice(6);
        }
        return frame;
      }
      const { value, done } = await this.reader.read();
      if (done) return null;
      this.buffer += this.decoder.decode(value, { stream: true });
    }
  }

  /** Skips heartbeats and resolves with the next `event: bundle` payload (or null at end). */
  async nextBundle(): Promise<Record<string, unknown> | null> {
    for (;;) {
      const f = await this.next();
      if (!f) return null;
      if (f.event === 'bundle' && f.data) return JSON.parse(f.data);
    }
  }

  cancel(): Promise<void> {
    return this.reader.cancel();
  }
}
