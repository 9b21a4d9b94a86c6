import type { BenchGroup } from '../lib/context.ts';
export const pushGroup: BenchGroup = { name: 'push', title: 'todo', metrics: () => [], run: async () => [] };
