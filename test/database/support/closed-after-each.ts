/**
 * The devices a test file opens (synced databases, engines over a raw connection), closed after
 * each test: `const track = closedAfterEach()` once per file, then `track(await open…)`.
 */
import { afterEach } from 'vitest';
import type { EngineSetup } from '../../engine/support/engine.ts';
import type { SyncedDatabase } from './synced-database.ts';

export function closedAfterEach(): <T extends SyncedDatabase | EngineSetup>(device: T) => T {
  const opened: Array<SyncedDatabase | EngineSetup> = [];
  afterEach(async () => {
    for (const o of opened.splice(0)) {
      if ('writeGroup' in o) await o.close();
      else await o.engine.close();
    }
  });
  return (device) => {
    opened.push(device);
    return device;
  };
}
