import type { SyncServer } from '../../index.ts';

/** Marks a task done on behalf of `userId`; devices receive the change as one bundle from `server:admin`. */
export async function completeTask(sync: SyncServer, userId: string, taskId: string): Promise<number> {
  const { bundle } = await sync.writeAs(userId, 'server:admin', async (tx) => {
    await tx.query('update business.tasks set done = true, updated_at = now() where _sync_scope_id = $1 and id = $2', [userId, taskId]);
  });
  return bundle.bundle_seq;
}
