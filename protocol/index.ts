/**
 * The oversync wire protocol, shared by the worker (client) and the server: wire types, error
 * codes, canonical JSON, hashes and column value encoding. The package's own barrel: apps get
 * the `oversqlite/protocol` entry (`public.ts`), a subset.
 */
export * from './wire.ts';
export * from './errors.ts';
export * from './canonical-json.ts';
export * from './hashes.ts';
export * from './values.ts';
export * from './dialect.ts';
export * from './go-json-hash.ts';
export * from './exact-json.ts';
