/**
 * Two app builds at once: a tab whose schema version differs from the leader's is refused with
 * `schema_mismatch` instead of reading or writing a database it does not understand.
 */
import { expect, test } from '@playwright/test';
import { notesSchema, openDb, openTab } from './page-helpers.ts';

test('a follower with another schema version is refused with schema_mismatch', async ({ context }) => {
  const leader = await openTab(context);
  expect(await openDb(leader, 'builds')).toBe('leader');
  const newer = await openTab(context);
  const refused = await newer.evaluate(
    async (schema) => {
      try {
        await window.harness.open({ name: 'builds', schema });
        return 'opened';
      } catch (e) {
        return (e as { code: string }).code;
      }
    },
    { version: 2, migrations: [...notesSchema.migrations, 'ALTER TABLE notes ADD COLUMN extra TEXT'] },
  );
  expect(refused).toBe('schema_mismatch');
  // The leader is unaffected.
  await leader.evaluate(async () => {
    await window.harness.db('builds').exec("INSERT INTO notes (tab, seq) VALUES ('l', 1)");
  });
});
