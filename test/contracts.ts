/** Locates and loads the shared contract fixtures (`../shared/reference/oversqlite-contracts`). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));

/** Absolute path of the contracts folder (override with OVERSQLITE_CONTRACTS_DIR). */
export const CONTRACTS_DIR =
  process.env.OVERSQLITE_CONTRACTS_DIR ?? join(here, '..', '..', 'shared', 'reference', 'oversqlite-contracts');

/** Parses one fixture file, relative to the contracts folder. */
export function loadContract<T = any>(relativePath: string): T {
  return JSON.parse(readFileSync(join(CONTRACTS_DIR, relativePath), 'utf8')) as T;
}
