/**
 * One test per seed of a randomized run: `<seedVar>` picks the first seed and `<runsVar>` how many
 * (defaults given by the file), and a failing seed prints the line that replays it alone.
 */
import { it } from 'vitest';

export function seededTests(seedVar: string, runsVar: string, first: number, runs: number, run: (seed: number) => Promise<void>): void {
  const from = Number(process.env[seedVar] ?? first);
  const count = Number(process.env[runsVar] ?? runs);
  for (let i = 0; i < count; i++) {
    const seed = from + i;
    it(`seed ${seed}`, async () => {
      try {
        await run(seed);
      } catch (e) {
        console.error(`randomized run failed; replay it with ${seedVar}=${seed} ${runsVar}=1`);
        throw e;
      }
    });
  }
}
