/**
 * A response body that is already JSON text: exactly the bytes `JSON.stringify` gives for the
 * value it stands for, assembled from per-row texts so large responses are serialized once.
 */
export class SerializedJson<T> {
  /** `value` is never materialized; the type says what the text encodes. */
  declare readonly value?: T;
  constructor(readonly text: string) {}
}
