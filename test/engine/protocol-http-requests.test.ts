/**
 * Exact request shapes, data-driven from `protocol-http/requests.json`: method, path (the base
 * URL's own path preserved), query, the source header, the JSON body, and no `source_id` in bodies.
 * Each operation goes through the same `protocol-client.ts` function the engine uses.
 */
import { describe, expect, it } from 'vitest';
import { AuthTokenSource } from '../../worker/engine/auth-token.ts';
import * as client from '../../worker/engine/protocol-client.ts';
import { SyncTransport } from '../../worker/engine/transport.ts';
import { loadContract } from '../contracts.ts';
import { instantClock } from './support/engine.ts';
import { ScriptedServer } from './support/scripted-server.ts';

interface Case {
  name: string;
  operation: string;
  sourceId: string;
  args?: Record<string, unknown>;
  expected: {
    method: string;
    path: string;
    query: Record<string, string>;
    sourceHeader: string;
    body: unknown;
    bodyMustNotContain?: string[];
  };
}

const fixture = loadContract<{ baseUri: string; cases: Case[] }>('protocol-http/requests.json');

async function perform(t: SyncTransport, c: Case): Promise<void> {
  const a = (c.args ?? {}) as Record<string, never>;
  switch (c.operation) {
    case 'capabilities':
      return void (await client.getCapabilities(t));
    case 'connect':
      return void (await client.connect(t, a.hasLocalPendingRows));
    case 'pull':
      return void (await t.streamText(client.pullRequest(a.afterBundleSeq, a.maxBundles, a.targetBundleSeq), () => {}));
    case 'pushSessionCreate':
      return void (await client.createPushSession(t, {
        sourceBundleId: a.sourceBundleId,
        plannedRowCount: a.plannedRowCount,
        canonicalRequestHash: (c.expected.body as { canonical_request_hash: string }).canonical_request_hash,
        initializationId: a.initializationId,
      }));
    case 'pushSessionChunk':
      return void (await client.uploadPushChunk(t, a.pushId, a.startRowOrdinal, (c.expected.body as { rows: never }).rows));
    case 'pushSessionCommit':
      return void (await client.commitPushSession(t, a.pushId));
    case 'committedRows':
      return void (await client.fetchCommittedRows(t, a.bundleSeq, a.afterRowOrdinal, a.maxRows));
    case 'snapshotSession':
      return void (await client.createSnapshotSession(t));
    case 'snapshotChunk':
      return void (await t.text(client.snapshotChunkRequest(a.snapshotId, a.afterRowOrdinal, a.maxRows, a.maxBytes)));
    case 'sourceReplacement':
      return void (await client.createSnapshotSession(t, {
        previousSourceId: a.previousSourceId,
        newSourceId: a.newSourceId,
        reason: a.reason,
      }));
    case 'watch':
      return void (await client.openWatch(t, a.afterBundleSeq, new AbortController().signal));
    default:
      throw new Error(`unmapped operation ${c.operation}`);
  }
}

describe('protocol HTTP requests (protocol-http/requests.json)', () => {
  for (const c of fixture.cases) {
    it(c.name, async () => {
      const server = new ScriptedServer(fixture.baseUri);
      server.on(c.expected.method, /.*/, { status: 200, body: {} });
      const clock = instantClock();
      const t = new SyncTransport(fixture.baseUri, () => c.sourceId, new AuthTokenSource(async () => 'tok', clock), server.fetch, clock);
      await perform(t, c);
      expect(server.requests).toHaveLength(1);
      const req = server.requests[0]!;
      expect(req.method).toBe(c.expected.method);
      expect(req.url.pathname).toBe(c.expected.path);
      expect(req.query).toEqual(c.expected.query);
      expect(req.headers['oversync-source-id']).toBe(c.expected.sourceHeader);
      expect(req.headers.authorization).toBe('Bearer tok');
      expect(req.body).toEqual(c.expected.body);
      for (const forbidden of c.expected.bodyMustNotContain ?? []) {
        expect(req.rawBody ?? '').not.toContain(`"${forbidden}"`);
      }
    });
  }
});
