/**
 * A database worker that cannot start (here: a worker script URL that does not exist) makes
 * openDatabase reject with a typed error instead of hanging forever.
 */
import { expect, test } from '@playwright/test';
import { notesSchema, openTab } from './page-helpers.ts';

test('a worker that fails to start rejects openDatabase with a typed error', async ({ context }) => {
  const page = await openTab(context);
  const outcome = await page.evaluate(async (schema) => {
    try {
      await window.harness.open({ name: 'noworker', schema, createWorker: () => new Worker('/does-not-exist.js', { type: 'module' }) });
      return { code: 'opened', message: '' };
    } catch (e) {
      return { code: (e as { code: string }).code, message: (e as Error).message };
    }
  }, notesSchema);
  expect(outcome.code).toBe('internal');
  expect(outcome.message).toMatch(/worker failed to start/);
  // The lock was released: a normal open of the same name now leads.
  const role = await page.evaluate(async (schema) => (await window.harness.open({ name: 'noworker', schema })).role, notesSchema);
  expect(role).toBe('leader');
});
