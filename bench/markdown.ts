/**
 * Prints a result JSON as the Markdown table BENCHMARKS.md uses:
 * `npx tsx bench/markdown.ts bench/results/<file>.json`.
 */
import { readFileSync } from 'node:fs';
import { formatTable } from './lib/metrics.ts';
import type { Metric } from './lib/metrics.ts';

const file = process.argv[2];
if (!file) {
  console.error('usage: npx tsx bench/markdown.ts <result.json>');
  process.exit(2);
}
const result = JSON.parse(readFileSync(file, 'utf8')) as {
  date: string;
  mode: string;
  totalSeconds: number;
  machine: unknown;
  metrics: Metric[];
};
console.log(`Run ${result.date} (${result.mode}, ${result.totalSeconds} s). Machine: \`${JSON.stringify(result.machine)}\`\n`);
console.log(formatTable(result.metrics, true));
