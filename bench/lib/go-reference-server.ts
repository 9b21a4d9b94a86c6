/**
 * go-oversync's own example server (commit 1f1118f, `examples/nethttp_server`) for the
 * side-by-side group: located by `interop/peer-location.mjs`, built (cached) by
 * `interop/go-build.mjs` and started on a fresh PostgreSQL database by the interop Node lane's
 * `startGoServer` — the same server the interop tests sync with. Tokens come from the example's
 * `/dummy-signin` (valid 5 minutes) and are cached per user.
 */
import { startGoServer } from '../../interop/node/support/go-server-process.ts';

interface PeerLocationModule {
  locatePeer(env?: NodeJS.ProcessEnv): { path: string } | { path: null; reason: string };
  PEER_INSTRUCTION: string;
}
interface GoBuildModule {
  hasGo(): boolean;
}

/** Where go-oversync is (`peerPath`), or why the group cannot run and how to make it run (`reason`). */
export async function locateGoReference(): Promise<{ peerPath: string } | { peerPath: null; reason: string }> {
  // Plain ESM scripts of interop/, imported by URL so the type checker needs no declarations.
  const location = (await import(new URL('../../interop/peer-location.mjs', import.meta.url).href)) as PeerLocationModule;
  const build = (await import(new URL('../../interop/go-build.mjs', import.meta.url).href)) as GoBuildModule;
  const found = location.locatePeer();
  if (found.path === null)
    return {
      peerPath: null,
      reason: `${'reason' in found ? found.reason : 'go-oversync not found'}; to run this group: ${location.PEER_INSTRUCTION}`,
    };
  if (!build.hasGo())
    return {
      peerPath: null,
      reason: `Go is not installed (go-oversync's example server is built from source at ${found.path}); install Go to run this group`,
    };
  return { peerPath: found.path };
}

/** The running example server. */
export interface GoReferenceServer {
  readonly baseUrl: string;
  tokenFor(userId: string): Promise<string>;
  close(): Promise<void>;
}

/** Tokens are refreshed well before the example's 5-minute expiry. */
const TOKEN_REUSE_MS = 3 * 60_000;

/** Builds (cached) and starts go-oversync's example server on a fresh database. */
export async function startGoReferenceServer(peerPath: string): Promise<GoReferenceServer> {
  const server = await startGoServer(peerPath);
  const tokens = new Map<string, { token: Promise<string>; at: number }>();
  return {
    baseUrl: server.baseUrl,
    tokenFor(userId) {
      const cached = tokens.get(userId);
      if (cached && performance.now() - cached.at < TOKEN_REUSE_MS) return cached.token;
      const token = server.token(userId);
      tokens.set(userId, { token, at: performance.now() });
      token.catch(() => tokens.delete(userId));
      return token;
    },
    close: () => server.close(),
  };
}
