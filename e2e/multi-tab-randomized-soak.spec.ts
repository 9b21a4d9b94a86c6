/**
 * Randomized soak: open, reload and close up to 5 tabs while they write, then check that every
 * acknowledged write is present exactly once. The seed is printed; replay a failure with
 * SOAK_SEED=<seed> node scripts/e2e.mjs multi-tab-randomized-soak.
 */
import { expect, test } from '@playwright/test';
import type { Page } from '@playwright/test';
import { openDb, openTab, reloadTab } from './page-helpers.ts';
import { seededRandom } from '../test/harness/seeded-random.ts';

test('randomized open/reload/close of up to 5 tabs keeps every acknowledged write exactly once', async ({ context }) => {
  test.setTimeout(120_000);
  const seed = Number(process.env.SOAK_SEED ?? Math.floor(Math.random() * 2 ** 31));
  console.log(`[soak] seed ${seed}`);
  const random = seededRandom(seed);
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)]!;
  const name = 'soak';
  const tabs: Page[] = [];
  const acked = new Set<number>();
  const failures: string[] = [];
  const inFlight: Promise<void>[] = [];
  let nextSeq = 0;
  const counts = { open: 0, reload: 0, close: 0, writes: 0 };

  const addTab = async (): Promise<void> => {
    const page = await openTab(context);
    await openDb(page, name);
    tabs.push(page);
    counts.open++;
  };
  const burst = (page: Page): void => {
    const seqs = Array.from({ length: 1 + Math.floor(random() * 8) }, () => nextSeq++);
    counts.writes += seqs.length;
    inFlight.push(
      page
        .evaluate(
          async ({ name, seqs }) => {
            const db = window.harness.db(name);
            return Promise.all(
              seqs.map(async (seq) => {
                try {
                  await db.exec('INSERT INTO notes (tab, seq) VALUES (?, ?)', ['soak', seq]);
                  return { seq, ok: true as const };
                } catch (e) {
                  return { seq, ok: false as const, code: (e as { code: string }).code };
                }
              }),
            );
          },
          { name, seqs },
        )
        .then(
          (results) => results.forEach((r) => (r.ok ? acked.add(r.seq) : failures.push(`${r.seq}:${r.code}`))),
          () => {
            /* the tab closed or reloaded before answering: not acknowledged */
          },
        ),
    );
  };

  await addTab();
  for (let step = 0; step < 80; step++) {
    const roll = random();
    if (roll < 0.2 && tabs.length < 5) {
      await addTab();
    } else if (roll < 0.35 && tabs.length > 0) {
      const page = pick(tabs);
      burst(page);
      await reloadTab(page);
      await openDb(page, name);
      counts.reload++;
    } else if (roll < 0.5 && tabs.length > 1) {
      const page = pick(tabs);
      burst(page);
      tabs.splice(tabs.indexOf(page), 1);
      await page.close();
      counts.close++;
    } else {
      for (const page of tabs) if (random() < 0.6) burst(page);
      if (random() < 0.5) await Promise.all(inFlight);
    }
  }
  await Promise.all(inFlight);
  if (tabs.length === 0) await addTab();
  const rows = await tabs[0]!.evaluate(
    async (n) =>
      (await window.harness.db(n).query<{ seq: number }>("SELECT seq FROM notes WHERE tab = 'soak' ORDER BY seq")).map((r) => r.seq),
    name,
  );
  console.log(
    `[soak] seed ${seed}: ${JSON.stringify(counts)}; ${acked.size} acknowledged, ${rows.length} present, failures: ${failures.join(' ') || 'none'}`,
  );
  expect(new Set(rows).size).toBe(rows.length);
  const missing = [...acked].filter((seq) => !rows.includes(seq));
  expect(missing, `acknowledged writes missing (seed ${seed})`).toEqual([]);
});
