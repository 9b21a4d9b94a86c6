/**
 * The text body of a Response this server built from a string (`replyToResponse` of a text
 * reply), kept beside it so the Node adapters can send it with one `res.end(text)` (and a
 * Content-Length) instead of reading the Response's body stream back chunk by chunk: ~4
 * responses per small sync.
 */
const texts = new WeakMap<Response, string | Uint8Array<ArrayBuffer>>();

/** A Response whose body is `text` (or its UTF-8 bytes), remembered for {@link unreadTextBody}. */
export function textResponse(text: string | Uint8Array<ArrayBuffer>, init: ResponseInit): Response {
  const response = new Response(text, init);
  texts.set(response, text);
  return response;
}

/** The body of a {@link textResponse} that nobody has started reading, else undefined (send the stream). */
export function unreadTextBody(response: Response): string | Uint8Array<ArrayBuffer> | undefined {
  if (response.bodyUsed || response.body?.locked) return undefined;
  return texts.get(response);
}
