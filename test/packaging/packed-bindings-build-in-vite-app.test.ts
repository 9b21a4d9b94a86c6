// The framework bindings work from the packed tarball: a fresh Vite app imports them by their
// subpath exports (`oversqlite/react`, ...), tsc types the app against the shipped declarations
// (row types flow from the query into the hook's result; `@ts-expect-error` lines prove they are
// not `any`), `vite build` bundles it, and no binding code ends up in the database worker chunk.
// Each framework is an optional peer dependency: the manifest says so, and the app links only
// the frameworks it uses.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REPO_ROOT, cleanEnv, packAndInstall } from './packed-package.ts';
import type { PackedProject } from './packed-package.ts';

/** One binding: its subpath, the packages an app using it installs, and an app module using it. */
interface Binding {
  readonly subpath: string;
  readonly peer: string;
  readonly links: readonly string[];
  /** TypeScript source of the app module. */
  readonly app: string;
  /** Text (a message of the binding) that is in a built chunk only if the binding's code is there. */
  readonly marker: string;
}

const BINDINGS: readonly Binding[] = [
  {
    subpath: 'oversqlite/react',
    peer: 'react',
    links: ['react', 'react-dom', '@types/react', '@types/react-dom'],
    app: `
import { createElement } from 'react';
import type { ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import { openDatabase } from 'oversqlite';
import { OversqliteProvider, useDatabase, useQuery, useSuspenseQuery, useSyncStatus } from 'oversqlite/react';

function Notes(): ReactNode {
  const { rows, loading, error } = useQuery<{ id: string; body: string | null }>('SELECT id, body FROM notes WHERE id > ?', ['a']);
  const status = useSyncStatus();
  const db = useDatabase();
  const all = useSuspenseQuery<{ n: number }>('SELECT count(*) AS n FROM notes');
  // @ts-expect-error rows are typed by the hook's type argument
  const wrong: number = rows[0]!.id;
  void wrong;
  // @ts-expect-error params are SQL values
  useQuery('SELECT 1', [{}]);
  const n: number = all[0]!.n;
  return createElement('p', null, loading ? '…' : error ? error.code : \`\${rows.length} \${n} \${db.name} \${status?.phase ?? ''}\`);
}

const db = await openDatabase({ name: 'notes', schema: { version: 1, migrations: ['CREATE TABLE notes (id TEXT PRIMARY KEY, body TEXT)'] } });
createRoot(document.getElementById('app')!).render(createElement(OversqliteProvider, { database: db }, createElement(Notes)));
`,
    marker: 'need an <OversqliteProvider database={db}>',
  },
  {
    subpath: 'oversqlite/vue',
    peer: 'vue',
    links: ['vue'],
    app: `
import { createApp, defineComponent, h, ref } from 'vue';
import { openDatabase } from 'oversqlite';
import { createOversqlite, useQuery, useSyncStatus } from 'oversqlite/vue';

const Notes = defineComponent({
  setup() {
    const after = ref('a');
    const { rows, loading, error } = useQuery<{ id: string; body: string | null }>('SELECT id, body FROM notes WHERE id > ?', () => [after.value]);
    const status = useSyncStatus();
    // @ts-expect-error rows are typed by the composable's type argument
    const wrong: number | undefined = rows.value[0]?.id;
    void wrong;
    return () => h('p', loading.value ? '…' : error.value ? error.value.code : \`\${rows.value.length} \${status.value?.phase ?? ''}\`);
  },
});

const db = await openDatabase({ name: 'notes', schema: { version: 1, migrations: ['CREATE TABLE notes (id TEXT PRIMARY KEY, body TEXT)'] } });
createApp(Notes).use(createOversqlite(db)).mount('#app');
`,
    marker: 'or provideDatabase(db) in a parent component',
  },
  {
    subpath: 'oversqlite/drizzle',
    peer: 'drizzle-orm',
    links: ['drizzle-orm'],
    app: `
import { eq } from 'drizzle-orm';
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { openDatabase } from 'oversqlite';
import { drizzle, live } from 'oversqlite/drizzle';

const notes = sqliteTable('notes', { id: text('id').primaryKey(), body: text('body'), pinned: integer('pinned', { mode: 'boolean' }).notNull().default(false) });
const db = await openDatabase({ name: 'notes', schema: { version: 1, migrations: ['CREATE TABLE notes (id TEXT PRIMARY KEY, body TEXT, pinned INTEGER NOT NULL DEFAULT 0)'] } });
const orm = drizzle(db);
await orm.batch([orm.insert(notes).values({ id: 'a', body: 'hello' }), orm.update(notes).set({ pinned: true }).where(eq(notes.id, 'a'))]);
live(db, orm.select().from(notes), (rows) => {
  const pinned: boolean | undefined = rows[0]?.pinned;
  // @ts-expect-error rows are typed from the Drizzle table
  const wrong: number | undefined = rows[0]?.body;
  document.body.textContent = JSON.stringify({ pinned, wrong });
});
`,
    marker: 'Transaction statements are not run on their own on oversqlite',
  },
  {
    subpath: 'oversqlite/kysely',
    peer: 'kysely',
    links: ['kysely'],
    app: `
import { Kysely } from 'kysely';
import { openDatabase } from 'oversqlite';
import { OversqliteDialect, executeAtomically, live } from 'oversqlite/kysely';

interface Tables { notes: { id: string; body: string | null } }
const db = await openDatabase({ name: 'notes', schema: { version: 1, migrations: ['CREATE TABLE notes (id TEXT PRIMARY KEY, body TEXT)'] } });
const k = new Kysely<Tables>({ dialect: new OversqliteDialect(db) });
await executeAtomically(db, [k.insertInto('notes').values({ id: 'a', body: 'hello' }), k.updateTable('notes').set({ body: 'hi' }).where('id', '=', 'a')]);
live(db, k.selectFrom('notes').select(['id']), (rows) => {
  const id: string | undefined = rows[0]?.id;
  // @ts-expect-error only the selected columns are typed
  void rows[0]?.body;
  document.body.textContent = String(id);
});
`,
    marker: 'No transaction is open on this Kysely connection.',
  },
];

let packed: PackedProject;

beforeAll(() => {
  packed = packAndInstall('bindings', ['vite', 'typescript', ...BINDINGS.flatMap((b) => b.links)]);
  writeFileSync(join(packed.projectDir, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
}, 120_000);

afterAll(() => packed?.dispose());

function appFile(binding: Binding): string {
  return `app-${binding.peer}.ts`;
}

it('declares every framework as an optional peer dependency', () => {
  const manifest = JSON.parse(readFileSync(join(packed.packageDir, 'package.json'), 'utf8')) as {
    exports: Record<string, unknown>;
    dependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
    peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  };
  for (const binding of BINDINGS) {
    expect(manifest.exports).toHaveProperty(`.${binding.subpath.slice('oversqlite'.length)}`);
    expect(manifest.peerDependencies?.[binding.peer]).toEqual(expect.any(String));
    expect(manifest.peerDependenciesMeta?.[binding.peer]?.optional).toBe(true);
    expect(manifest.dependencies ?? {}).not.toHaveProperty(binding.peer);
  }
});

it('type-checks an app using each binding against the packed declarations', () => {
  for (const binding of BINDINGS) writeFileSync(join(packed.projectDir, appFile(binding)), binding.app);
  writeFileSync(
    join(packed.projectDir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'esnext',
        moduleResolution: 'bundler',
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        lib: ['ES2022', 'DOM', 'DOM.Iterable'],
        types: [],
      },
      files: BINDINGS.map(appFile),
    }),
  );
  let output = '';
  try {
    execFileSync(
      process.execPath,
      [join(packed.projectDir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json', '--pretty', 'false'],
      { cwd: packed.projectDir, env: cleanEnv(), encoding: 'utf8' },
    );
  } catch (err) {
    output = (err as { stdout?: string }).stdout ?? String(err);
  }
  // Errors inside third-party declarations (reached through the repository's node_modules) are not ours.
  const errors = output
    .split('\n')
    .filter((line) => /error TS\d+/.test(line))
    .filter((line) => {
      const file = /^(.+?)\(\d+,\d+\): error/.exec(line)?.[1];
      return file === undefined || !resolve(packed.projectDir, file).startsWith(join(REPO_ROOT, 'node_modules') + '/');
    });
  expect(errors).toEqual([]);
}, 90_000);

it('vite builds an app per binding; the worker chunk holds none of it', () => {
  for (const binding of BINDINGS) {
    writeFileSync(join(packed.projectDir, appFile(binding)), binding.app);
    writeFileSync(
      join(packed.projectDir, `${binding.peer}.html`),
      `<!doctype html>\n<html><body><div id="app"></div><script type="module" src="./${appFile(binding)}"></script></body></html>\n`,
    );
    const outDir = `out-${binding.peer}`;
    const config = `vite.${binding.peer}.config.js`;
    writeFileSync(join(packed.projectDir, config), `export default { build: { rolldownOptions: { input: '${binding.peer}.html' } } };\n`);
    try {
      execFileSync(
        process.execPath,
        [
          join(packed.projectDir, 'node_modules', 'vite', 'bin', 'vite.js'),
          'build',
          '--config',
          config,
          '--outDir',
          outDir,
          '--logLevel',
          'warn',
        ],
        {
          cwd: packed.projectDir,
          env: cleanEnv(),
          encoding: 'utf8',
          stdio: 'pipe',
        },
      );
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      throw new Error(`vite build (${binding.subpath}) failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
    }
    const dir = join(packed.projectDir, outDir, 'assets');
    const chunks = readdirSync(dir).filter((f) => f.endsWith('.js'));
    const worker = chunks.find((f) => /^worker-entry-.*\.js$/.test(f));
    expect({ binding: binding.subpath, worker }).toEqual({ binding: binding.subpath, worker: expect.any(String) });
    const withBinding = chunks.filter((f) => readFileSync(join(dir, f), 'utf8').includes(binding.marker));
    expect({ binding: binding.subpath, withBinding: withBinding.length > 0, inWorker: withBinding.includes(worker!) }).toEqual({
      binding: binding.subpath,
      withBinding: true,
      inWorker: false,
    });
  }
}, 120_000);
