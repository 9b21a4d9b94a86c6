import type { BenchGroup } from '../lib/context.ts';
export const propagationGroup: BenchGroup = { name: 'propagation', title: 'todo', metrics: () => [], run: async () => [] };
