import type { BenchGroup } from '../lib/context.ts';
export const pullGroup: BenchGroup = { name: 'pull', title: 'todo', metrics: () => [], run: async () => [] };
