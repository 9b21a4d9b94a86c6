/** JSON replies and the protocol's error envelope. */
import { statusForWireError } from '../../protocol/errors.ts';
import type { WireErrorCode } from '../../protocol/errors.ts';

import { EncodedJson, SerializedJson, StreamedJson } from '../runtime/serialized-json.ts';
import type { SyncReply } from './sync-exchange.ts';

/**
 * A JSON reply (a {@link SerializedJson} body is sent as its text, already serialized; an
 * {@link EncodedJson} one as its bytes; a {@link StreamedJson} one as its stream).
 */
export function jsonReply(status: number, body: unknown, headers: Record<string, string> = {}): SyncReply {
  if (body instanceof StreamedJson) return { status, headers: { 'Content-Type': 'application/json', ...headers }, stream: body.stream };
  if (body instanceof EncodedJson) return { status, headers: { 'Content-Type': 'application/json', ...headers }, bytes: body.bytes };
  const text = body instanceof SerializedJson ? body.text : JSON.stringify(body);
  return { status, headers: { 'Content-Type': 'application/json', ...headers }, text };
}

/**
 * Longest error message sent, in UTF-16 code units. Messages quote input (a table or column name,
 * a key); a client that sends a 20 MB name must not get 20 MB back.
 */
const MAX_ERROR_MESSAGE_LENGTH = 1024;

/** `message` cut to {@link MAX_ERROR_MESSAGE_LENGTH}, saying how much was cut. */
function capErrorMessage(message: string): string {
  if (message.length <= MAX_ERROR_MESSAGE_LENGTH) return message;
  return `${message.slice(0, MAX_ERROR_MESSAGE_LENGTH)}… (${message.length - MAX_ERROR_MESSAGE_LENGTH} more characters cut)`;
}

/** An error envelope `{"error", "message", ...extra}` with the code's HTTP status (message capped). */
export function errorReply(
  code: WireErrorCode | string,
  message: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): SyncReply {
  return jsonReply(statusForWireError(code), { error: code, message: capErrorMessage(message), ...extra }, headers);
}
