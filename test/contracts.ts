/**
 * Loads the oversqlite contract fixtures: test vectors copied into the repository
 * (`test/fixtures/oversqlite-contracts/`, provenance and license in its README), so a fresh clone
 * needs nothing beside it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the contract fixtures folder. */
export const CONTRACTS_DIR = fileURLToPath(new URL('./fixtures/oversqlite-contracts/', import.meta.url));

/** Parses one fixture file, relative to the contracts folder. */
export function loadContract<T = any>(relativePath: string): T {
  return JSON.parse(readFileSync(join(CONTRACTS_DIR, relativePath), 'utf8')) as T;
}
