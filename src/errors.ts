/**
 * Typed errors of the main-thread API (the same class the worker uses).
 */
export { OversqliteError } from '../worker/database/errors.ts';
export type { OversqliteErrorCode, OversqliteErrorShape } from '../worker/database/errors.ts';
