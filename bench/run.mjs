#!/usr/bin/env node
// `npm run bench [-- --quick] [-- --group push,pull]`: runs the benchmark groups, prints a table and
// writes bench/results/<timestamp>.json. This file only parses arguments and loads the TypeScript
// runner through tsx (Node 20 cannot strip types by itself).
import { register } from 'tsx/esm/api';

const args = process.argv.slice(2);
const options = { quick: false, groups: [], out: undefined };
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  if (arg === '--quick') options.quick = true;
  else if (arg === '--group' || arg === '-g')
    options.groups.push(
      ...String(args[++i] ?? '')
        .split(',')
        .filter(Boolean),
    );
  else if (arg.startsWith('--group=')) options.groups.push(...arg.slice(8).split(',').filter(Boolean));
  else if (arg === '--out') options.out = args[++i];
  else if (arg === '--help' || arg === '-h') {
    console.log(
      'usage: npm run bench -- [--quick] [--group write,query,push,pull,propagation,server,reference,size,transaction] [--out file.json]',
    );
    process.exit(0);
  } else {
    console.error(`unknown argument ${arg} (try --help)`);
    process.exit(2);
  }
}

register();
const { runBenchmarks } = await import('./runner.ts');
const code = await runBenchmarks(options);
process.exit(code);
