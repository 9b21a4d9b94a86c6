/**
 * Child process body of {@link startBenchSyncServer}: runs `startSyncServer()` from the test
 * harness and answers `start`, `token` and `close` requests over IPC.
 */
type ServerRequest = { id: number; op: 'start' | 'token' | 'close'; arg?: string };
type Harness = { baseUrl: string; tokenFor(userId: string): string | Promise<string>; close(): Promise<void> | void };

let server: Harness | undefined;

process.on('message', async (message: ServerRequest) => {
  const reply = (body: { ok: true; value: unknown } | { ok: false; error: string }) => process.send?.({ id: message.id, ...body });
  try {
    if (message.op === 'start') {
      const { startSyncServer } = (await import('../../test/harness/sync-server.ts')) as unknown as { startSyncServer: () => Promise<Harness> };
      server = await startSyncServer();
      reply({ ok: true, value: server.baseUrl });
    } else if (message.op === 'token') {
      if (!server) throw new Error('server not started');
      reply({ ok: true, value: await server.tokenFor(String(message.arg)) });
    } else {
      await server?.close();
      server = undefined;
      reply({ ok: true, value: null });
      setTimeout(() => process.exit(0), 10);
    }
  } catch (error) {
    reply({ ok: false, error: error instanceof Error ? `${error.message}` : String(error) });
  }
});
export {};
