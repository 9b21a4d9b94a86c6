/** Types of `peer-location.mjs` (where the go-oversync source lives on this machine). */
export declare const repoRoot: string;
export declare const PEER_ENV: string;
export declare const PEER_COMMIT: string;
export declare const PEER_INSTRUCTION: string;
export declare function locatePeer(env?: Record<string, string | undefined>): { path: string } | { path: null; reason: string };
