/** What every runtime operation needs: the database, the bootstrapped catalog and resolved settings. */
import type { SqlDatabase } from '../database/types.ts';
import type { Catalog } from './catalog.ts';
import type { RetentionPolicy } from './bundle-finalize.ts';
import type { ResolvedLimits } from './options.ts';
import type { WireDialectOption } from './wire-dialect.ts';

/** Shared, immutable runtime context. */
export interface RuntimeContext {
  db: SqlDatabase;
  catalog: Catalog;
  limits: ResolvedLimits;
  retention: RetentionPolicy;
  /** LISTEN/NOTIFY channel of bundle-change events. */
  notifyChannel: string;
  /** Wire dialect option: detected per push session and source (`auto`), or forced. */
  wireDialect: WireDialectOption;
  /** Whether the one-request push extension is offered (server option `oneRequestPush`). */
  oneRequestPush: boolean;
}
