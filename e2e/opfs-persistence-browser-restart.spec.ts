/**
 * Data survives a full browser restart: a persistent Chromium profile on disk, closed and
 * launched again.
 */
import { chromium, expect, test } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumArgs, chromiumPath } from './browser.ts';
import { countNotes, openDb, openTab } from './page-helpers.ts';

test('OPFS data survives a browser restart (persistent profile)', async () => {
  const profile = mkdtempSync(join(tmpdir(), 'oversqlite-profile-'));
  try {
    const first = await chromium.launchPersistentContext(profile, { executablePath: chromiumPath, args: chromiumArgs });
    const page = await openTab(first);
    expect(await openDb(page, 'restart')).toBe('leader');
    await page.evaluate(async () => {
      const db = window.harness.db('restart');
      await db.transaction(
        Array.from({ length: 100 }, (_, i) => ({ sql: 'INSERT INTO notes (tab, seq, body) VALUES (?, ?, ?)', params: ['a', i, `n${i}`] })),
      );
      await db.exec('INSERT INTO notes (tab, seq, body) VALUES (?, ?, ?)', ['big', 9007199254740993n, 'beyond 2^53']);
    });
    await first.close();

    const second = await chromium.launchPersistentContext(profile, { executablePath: chromiumPath, args: chromiumArgs });
    const again = await openTab(second);
    await openDb(again, 'restart');
    expect(await countNotes(again, 'restart')).toBe(101);
    const big = await again.evaluate(async () => {
      const rows = await window.harness.db('restart').query<{ seq: bigint }>("SELECT seq FROM notes WHERE tab = 'big'");
      return String(rows[0]!.seq) + typeof rows[0]!.seq;
    });
    expect(big).toBe('9007199254740993bigint');
    await second.close();
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
});
