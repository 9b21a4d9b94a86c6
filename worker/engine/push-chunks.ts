/**
 * How a frozen bundle is cut into push chunks, and whether it goes as a one-request push (our
 * server's extension `oversqlite_extensions.one_request_push`, see docs/protocol-differences.md).
 */
import type { EngineContext } from './context.ts';
import { withinServerLimit } from './context.ts';
import { serverDialect } from './dialect.ts';
import type { OutboxRow } from './outbox.ts';
import { pushBodyRow } from './wire-text.ts';

const DEFAULT_CHUNK_ROWS = 1000;

// A chunk also stops at this many characters of row JSON, so rows with large payloads still make
// requests far below a server's body limit (ours: 32 MiB).
const CHUNK_TEXT_BUDGET = 4 * 1024 * 1024;

/** Rows per chunk: the app's option or the server's default, capped by the server's maximum. */
export function chunkRows(ctx: EngineContext): number {
  const limits = ctx.capabilities?.bundle_limits ?? {};
  const wanted = ctx.options.pushChunkRows ?? limits.default_rows_per_push_chunk ?? DEFAULT_CHUNK_ROWS;
  return withinServerLimit(wanted, limits.max_rows_per_push_chunk);
}

/** The chunk starting at row `start`: at most `size` rows and (past its first row) the text budget. */
export function buildChunk(rows: readonly OutboxRow[], start: number, size: number): { start: number; end: number; body: string } {
  const out: string[] = ['['];
  let chars = 0;
  let end = start;
  while (end < rows.length && end - start < size && (end === start || chars < CHUNK_TEXT_BUDGET)) {
    if (end > start) out.push(',');
    const r = rows[end]!;
    pushBodyRow(out, r);
    chars += r.payloadText.length + r.keyText.length + 80;
    end++;
  }
  out.push(']');
  return { start, end, body: out.join('') };
}

/** Bytes of `text` as UTF-8 (at most 3 per UTF-16 unit: the exact count only when that could matter). */
function utf8BytesAtMost(text: string, limit: number): boolean {
  if (text.length * 3 + 256 <= limit) return true;
  return new TextEncoder().encode(text).length + 256 <= limit;
}

/**
 * The rows array text of a one-request push, or null when the bundle goes as create, chunks and
 * commit: the server does not advertise the extension (go-oversync never does), the server is
 * known to speak the go-json-numbers dialect, or the bundle does not fit one chunk under the
 * server's limits and ours.
 */
export function oneRequestRowsJson(ctx: EngineContext, rows: readonly OutboxRow[]): string | null {
  const offer = ctx.capabilities?.oversqlite_extensions?.one_request_push;
  if (!offer || rows.length === 0 || serverDialect(ctx) === 'go-json-numbers') return null;
  if (typeof offer.max_rows !== 'number' || rows.length > Math.min(offer.max_rows, chunkRows(ctx))) return null;
  const chunk = buildChunk(rows, 0, rows.length);
  if (chunk.end !== rows.length) return null;
  if (typeof offer.max_request_bytes !== 'number' || !utf8BytesAtMost(chunk.body, offer.max_request_bytes)) return null;
  return chunk.body;
}
