/**
 * Issue 6 item 7: groups 3, 4 and 6 side by side with the go-oversync reference server. The Go
 * module cannot be fetched on this machine (the Go module proxy answers 403), so there is no
 * reference server to run; every metric is reported as blocked with that reason, never guessed.
 */
import type { BenchGroup } from '../lib/context.ts';
import { blocked } from '../lib/metrics.ts';

const REASON = 'blocked: the go-oversync Go module is not available here (Go module proxy answers 403), so the reference server cannot be built or run on this machine; no reference number is reported';

const compared = ['push.rows_per_s', 'pull.snapshot.rows_per_s', 'pull.bundles.rows_per_s', 'server_load.bundles_per_s'];

export const referenceGroup: BenchGroup = {
  name: 'reference',
  title: 'side by side with the go-oversync reference server',
  metrics() {
    return compared.map((m) => ({ metric: `reference.${m}.ours_vs_go`, unit: 'ratio' }));
  },
  async run() {
    return compared.map((m) => blocked('reference', `reference.${m}.ours_vs_go`, 'ratio', REASON));
  },
};
