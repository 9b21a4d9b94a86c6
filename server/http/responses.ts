/** JSON responses and the protocol's error envelope. */
import { statusForWireError } from '../../protocol/errors.ts';
import type { WireErrorCode } from '../../protocol/errors.ts';

import { SerializedJson } from '../runtime/serialized-json.ts';

const JSON_HEADERS = { 'Content-Type': 'application/json' };

/** A JSON response (a {@link SerializedJson} body is sent as its text, already serialized). */
export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  const text = body instanceof SerializedJson ? body.text : JSON.stringify(body);
  return new Response(text, { status, headers: { ...JSON_HEADERS, ...headers } });
}

/** An error envelope `{"error", "message", ...extra}` with the code's HTTP status. */
export function errorResponse(code: WireErrorCode | string, message: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): Response {
  return jsonResponse(statusForWireError(code), { error: code, message, ...extra }, headers);
}
