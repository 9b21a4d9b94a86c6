/**
 * The result record every group produces, and how a run prints and stores them. A metric is
 * either measured (value, and its baseline from the same run where one exists) or blocked with a
 * reason; there is no third state, so a missing number can never look like a measured one.
 */

/** One benchmark result, as written to the JSON file. */
export interface Metric {
  /** Group it belongs to (`write`, `query`, ...). */
  readonly group: string;
  /** Stable metric name, e.g. `push.rows_per_s.10000`. */
  readonly metric: string;
  /** Unit of value and baseline. */
  readonly unit: string;
  /** Median over the repeats (null only when blocked). */
  readonly value: number | null;
  /** The same measurement's baseline from the same run, or null when the metric has none by nature. */
  readonly baseline: number | null;
  /** value / baseline (null without a baseline). */
  readonly ratio: number | null;
  /** What the baseline is, how many repeats, and anything a reader needs to judge the number. */
  readonly notes: string;
  /** `ok` measured; `blocked` cannot be measured here; `failed` errored in this run (notes say why). */
  readonly status: 'ok' | 'blocked' | 'failed';
  /** Raw per-repeat values, for anyone who wants the spread. */
  readonly samples?: readonly number[];
  /** The baseline's raw per-repeat values, where a group records them (same order as `samples`). */
  readonly baselineSamples?: readonly number[];
}

/** Builds a measured metric; ratio is value / baseline. */
export function measured(
  group: string,
  metric: string,
  unit: string,
  value: number,
  baseline: number | null,
  notes: string,
  samples?: readonly number[],
  baselineSamples?: readonly number[],
): Metric {
  const ratio = baseline === null || baseline === 0 ? null : value / baseline;
  return {
    group,
    metric,
    unit,
    value: round(value),
    baseline: baseline === null ? null : round(baseline),
    ratio: ratio === null ? null : round(ratio, 3),
    notes,
    status: 'ok',
    ...(samples ? { samples: samples.map((s) => round(s)) } : {}),
    ...(baselineSamples ? { baselineSamples: baselineSamples.map((s) => round(s)) } : {}),
  };
}

/** Builds a metric that could not be measured in this run, with the reason. */
export function blocked(group: string, metric: string, unit: string, reason: string): Metric {
  return { group, metric, unit, value: null, baseline: null, ratio: null, notes: reason, status: 'blocked' };
}

function round(n: number, digits = 2): number {
  if (!Number.isFinite(n)) return n;
  // Sub-millisecond timings keep microseconds; large counts keep whole units.
  const f = 10 ** (Math.abs(n) >= 100 ? 0 : Math.abs(n) < 1 ? 4 : digits);
  return Math.round(n * f) / f;
}

/** Builds a metric that errored or ran out of time in this run, with the reason. */
export function failed(group: string, metric: string, unit: string, reason: string): Metric {
  return { group, metric, unit, value: null, baseline: null, ratio: null, notes: reason, status: 'failed' };
}

/** Formats the run's metrics as a fixed-width table for the terminal (and BENCHMARKS.md). */
export function formatTable(metrics: readonly Metric[], markdown = false): string {
  const header = ['metric', 'unit', 'value', 'baseline', 'ratio', 'notes'];
  const rows = metrics.map((m) => [
    m.metric,
    m.unit,
    m.status === 'ok' ? fmt(m.value) : m.status.toUpperCase(),
    fmt(m.baseline),
    m.ratio === null ? '' : m.ratio.toFixed(3),
    m.notes,
  ]);
  if (markdown) {
    const esc = (s: string) => s.replace(/\|/g, '\\|');
    return [
      `| ${header.join(' | ')} |`,
      `|${header.map(() => '---').join('|')}|`,
      ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
    ].join('\n');
  }
  const widths = header.slice(0, 5).map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .slice(0, 5)
      .map((c, i) => (i >= 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ') +
    '  ' +
    r[5];
  return [line(header), ...rows.map(line)].join('\n');
}

function fmt(n: number | null): string {
  if (n === null) return '';
  if (!Number.isFinite(n)) return String(n);
  return Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en-US') : Math.abs(n) < 1 && n !== 0 ? n.toFixed(3) : n.toFixed(2);
}
