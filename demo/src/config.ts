/**
 * Where the oversync server is. scripts/demo.mjs starts the reference server first and bakes its
 * URL into the build (DEMO_SERVER_URL → `__DEMO_SERVER_URL__`); `?server=` overrides it at run time.
 */
declare const __DEMO_SERVER_URL__: string;

/** Base URL of the oversync server (no trailing slash). */
export const serverUrl: string = (new URLSearchParams(location.search).get('server') ?? __DEMO_SERVER_URL__).replace(/\/+$/, '');

/** Name of the local database (one OPFS file per origin). */
export const databaseName = 'oversqlite-demo';
