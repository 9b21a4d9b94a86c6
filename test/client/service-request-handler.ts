/**
 * Test seam: runs tab requests directly on a real {@link WorkerService} (no worker, no comlink),
 * the way the leader's WorkerBackend runs them through comlink in the browser (that path is
 * covered by the e2e specs).
 */
import type { RequestHandler } from '../../src/leader-server.ts';
import type { DatabaseRequest } from '../../src/database-request.ts';
import type { Outcome } from '../../worker/database/types.ts';
import type { WorkerService } from '../../worker/database/worker-service.ts';

/** Wraps a service as the leader's request handler. */
export function serviceHandler(service: WorkerService): RequestHandler {
  return {
    async handle(request: DatabaseRequest, requestId?: string): Promise<Outcome<unknown>> {
      switch (request.op) {
        case 'query':
          return service.query(request.sql, request.params);
        case 'watchedQuery':
          return service.watchedQuery(request.sql, request.params);
        case 'write':
          return (await service.write([requestId === undefined ? request.unit : { ...request.unit, requestId }]))[0]!;
        case 'sync':
          return service.sync(request.method, request.args);
        case 'measureQuery':
          return service.measureQuery(request.sql, request.params, request.iterations);
        case 'groupCommitStats':
          return { ok: true, value: (await service.groupCommitStats()) ?? null };
        case 'begin':
          return service.beginTransaction(request.txId, request.leaseMs);
        case 'txRun':
          return service.runInTransaction(request.txId, request.sql, request.params);
        case 'commit':
          return service.commitTransaction(request.txId);
        case 'rollback':
          return service.rollbackTransaction(request.txId);
      }
    },
  };
}
