/**
 * Which dialect of oversync v1 the server speaks (`protocol/dialect.ts`), as this engine learns it.
 *
 * Evidence, strongest first (a stronger one replaces a weaker one):
 * 1. `bundle_hash` of a committed bundle verified in one material (JCS with string counters, or Go
 *    `encoding/json` with numeric counters): proof.
 * 2. A push session created with our `canonical_request_hash`: a `jcs-numeric-strings` server
 *    echoes it; go-oversync 1f1118f ignores the field and answers without it.
 * 3. The first INTEGER/REAL/decimal value received: a canonical string (`jcs-numeric-strings`) or a
 *    JSON number (`go-json-numbers`).
 * 4. Capabilities: the contract-era snapshot byte limits (`default_bytes_per_snapshot_chunk`) are
 *    advertised by `jcs-numeric-strings` servers only (go-oversync 1f1118f has none): a presumption.
 * Until something is known, inbound JSON numbers are accepted (read exactly, see
 * `protocol/exact-json.ts`); once the server is known to speak `jcs-numeric-strings`, a JSON number
 * for an INTEGER/REAL column is the legacy encoding and is rejected, as the contracts require.
 */
import type { WireDialect } from '../../protocol/index.ts';
import type { EngineContext } from './context.ts';

/** How sure the engine is of the dialect (higher replaces lower). */
type DialectEvidence = 'capabilities' | 'values' | 'push_session' | 'bundle_hash';

const STRENGTH: Record<DialectEvidence, number> = { capabilities: 1, values: 2, push_session: 3, bundle_hash: 4 };

interface Known {
  dialect: WireDialect;
  evidence: DialectEvidence;
}

// Per engine context, in memory: the engine re-learns it after a restart (first request suffices).
const known = new WeakMap<EngineContext, Known>();

/** Records evidence of the server's dialect (ignored when weaker than what is already known). */
export function learnDialect(ctx: EngineContext, dialect: WireDialect, evidence: DialectEvidence): void {
  const k = known.get(ctx);
  if (k && STRENGTH[k.evidence] > STRENGTH[evidence]) return;
  known.set(ctx, { dialect, evidence });
}

/** The server's dialect as far as known (null: nothing says yet). */
export function serverDialect(ctx: EngineContext): WireDialect | null {
  const k = known.get(ctx);
  if (k) return k.dialect;
  const limits = ctx.capabilities?.bundle_limits as Record<string, unknown> | undefined;
  if (limits && typeof limits.default_bytes_per_snapshot_chunk === 'number') return 'jcs-numeric-strings';
  return null;
}

/** The evidence behind `serverDialect` (null when nothing is known). */
export function dialectEvidence(ctx: EngineContext): DialectEvidence | null {
  const k = known.get(ctx);
  if (k) return k.evidence;
  return serverDialect(ctx) ? 'capabilities' : null;
}

/**
 * Evidence 3 (see above): the first INTEGER/REAL/decimal value `v` received (not null) tells the
 * dialect, unless something stronger than the capabilities presumption already has.
 */
export function learnDialectFromValue(ctx: EngineContext, v: unknown): void {
  const evidence = dialectEvidence(ctx);
  if (evidence === null || evidence === 'capabilities')
    learnDialect(ctx, typeof v === 'string' ? 'jcs-numeric-strings' : 'go-json-numbers', 'values');
}

/** Whether inbound INTEGER/REAL values may be JSON numbers (anything but a known strings server). */
export function acceptsJsonNumbers(ctx: EngineContext): boolean {
  return serverDialect(ctx) !== 'jcs-numeric-strings';
}
