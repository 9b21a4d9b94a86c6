/**
 * A response body that is already JSON text: exactly the bytes `JSON.stringify` gives for the
 * value it stands for, assembled from per-row texts so large responses are serialized once.
 */
export class SerializedJson<T> {
  /** `value` is never materialized; the type says what the text encodes. */
  declare readonly value?: T;
  constructor(readonly text: string) {}
}

/**
 * A response body of JSON text sent as it is produced (a large pull page, piece by piece): the
 * bytes together are what `JSON.stringify` gives for the value. A failure after the first piece
 * errors the stream, and the client sees the body cut short.
 */
export class StreamedJson<T> {
  /** `value` is never materialized; the type says what the text encodes. */
  declare readonly value?: T;
  constructor(readonly stream: ReadableStream<Uint8Array>) {}
}
