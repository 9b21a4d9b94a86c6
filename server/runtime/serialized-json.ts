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
 * A response body of JSON already encoded as UTF-8: exactly the bytes of `JSON.stringify` of the
 * value, written from the text's parts ({@link utf8OfParts}) so no large joined string is made.
 */
export class EncodedJson<T> {
  /** `value` is never materialized; the type says what the bytes encode. */
  declare readonly value?: T;
  constructor(readonly bytes: Uint8Array<ArrayBuffer>) {}
}

/**
 * `parts` joined, as UTF-8 bytes: each written once into one buffer. Joining ~MB texts from
 * PostgreSQL first makes a rope that encoding has to flatten (a copy, and old-space garbage,
 * costing more than the encode itself).
 */
export function utf8OfParts(parts: readonly string[]): Buffer<ArrayBuffer> {
  let size = 0;
  for (const part of parts) size += Buffer.byteLength(part);
  const bytes = Buffer.allocUnsafe(size);
  let at = 0;
  for (const part of parts) at += bytes.write(part, at);
  return bytes;
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
