/**
 * A push server that canonicalizes a pushed value before staging it (as PostgreSQL does with
 * numeric scale or timestamp zones), at the fetch seam in front of a scripted server: every
 * string value of `column` in a chunk's rows is replaced by `normalize(value)`. The committed
 * bundle then differs from what the engine pushed, so the engine must fetch the committed rows,
 * verify them against `bundle_hash` and apply them (the path a push of unchanged rows skips).
 */
export function normalizingFetch(
  target: () => typeof fetch,
  column: string,
  normalize: (value: string) => unknown = (v) => v.toUpperCase(),
): typeof fetch {
  return (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (init?.method === 'POST' && /\/chunks$/.test(new URL(url).pathname) && typeof init.body === 'string') {
      const body = JSON.parse(init.body) as { rows: { payload?: Record<string, unknown> }[] };
      for (const r of body.rows) {
        const v = r.payload?.[column];
        if (typeof v === 'string') r.payload![column] = normalize(v);
      }
      return target()(input, { ...init, body: JSON.stringify(body) });
    }
    return target()(input, init);
  };
}
