import type { BenchGroup } from '../lib/context.ts';
export const serverLoadGroup: BenchGroup = { name: 'server', title: 'todo', metrics: () => [], run: async () => [] };
