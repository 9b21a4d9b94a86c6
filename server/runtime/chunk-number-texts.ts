/**
 * The exact text of JSON numbers in a push chunk body's payloads. `JSON.parse` turns every number
 * into a float64 (Node 20 gives revivers no source text), so an int8 value beyond 2^53 sent as a
 * JSON number by a go-oversync peer would be rounded silently; this scan of the (already
 * validated) body text recovers each `rows[i].payload.<column>` number's own digits. It only runs
 * when a chunk actually carries a number in a numeric column.
 */

/** Row index -> raw payload member name -> number text. */
export type PayloadNumberTexts = Map<number, Map<string, string>>;

interface Frame {
  object: boolean;
  /** Current member name (objects) once read. */
  key: string | null;
  awaitingKey: boolean;
  /** Current element index (arrays). */
  index: number;
}

function stringEnd(text: string, start: number): number {
  let j = start + 1;
  for (;;) {
    const q = text.indexOf('"', j);
    if (q < 0) return text.length;
    let backslashes = 0;
    for (let k = q - 1; k > start && text.charCodeAt(k) === 0x5c; k--) backslashes++;
    if (backslashes % 2 === 0) return q + 1;
    j = q + 1;
  }
}

function isNumberChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x65 || c === 0x45;
}

/** Scans well-formed JSON `text` (a push chunk body) for numbers at `rows[i].payload.<name>`. */
export function payloadNumberTexts(text: string): PayloadNumberTexts {
  const out: PayloadNumberTexts = new Map();
  const stack: Frame[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const end = stringEnd(text, i);
      const top = stack[stack.length - 1];
      if (top && top.object && top.awaitingKey) {
        const raw = text.slice(i + 1, end - 1);
        top.key = raw.includes('\\') ? (JSON.parse(text.slice(i, end)) as string) : raw;
        top.awaitingKey = false;
      }
      i = end;
    } else if (c === 0x7b || c === 0x5b) {
      stack.push({ object: c === 0x7b, key: null, awaitingKey: c === 0x7b, index: 0 });
      i++;
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
      i++;
    } else if (c === 0x2c) {
      const top = stack[stack.length - 1]!;
      if (top.object) top.awaitingKey = true;
      else top.index++;
      i++;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      let j = i + 1;
      while (j < n && isNumberChar(text.charCodeAt(j))) j++;
      if (
        stack.length === 4 &&
        stack[0]!.object &&
        stack[0]!.key === 'rows' &&
        !stack[1]!.object &&
        stack[2]!.object &&
        stack[2]!.key === 'payload' &&
        stack[3]!.object &&
        stack[3]!.key !== null
      ) {
        const row = stack[1]!.index;
        let cols = out.get(row);
        if (!cols) out.set(row, (cols = new Map()));
        cols.set(stack[3]!.key, text.slice(i, j));
      }
      i = j;
    } else i++;
  }
  return out;
}
