/**
 * The UI: projects on the left, the selected project's tasks on the right, the sync status on
 * top. Every list is a live query (`useQuery` over a Drizzle query), so it follows writes from
 * this tab, other tabs and other devices without any refresh code.
 */
import { useState } from 'react';
import type { FormEvent, ReactNode } from 'react';
import { asc, count, eq } from 'drizzle-orm';
import type { Database } from 'oversqlite';
import { drizzle } from 'oversqlite/drizzle';
import { useDatabase, useQuery, useSyncStatus } from 'oversqlite/react';
import { projects, tasks } from './schema.ts';

function useOrm() {
  const db: Database = useDatabase();
  const [orm] = useState(() => drizzle(db));
  return orm;
}

function SyncBar(): ReactNode {
  const status = useSyncStatus();
  const db = useDatabase();
  const [error, setError] = useState<string | null>(null);
  const syncNow = () => {
    setError(null);
    db.sync.sync().catch((e: { code?: string; message?: string }) => setError(`${e.code ?? 'error'}: ${e.message ?? String(e)}`));
  };
  return (
    <header>
      <span data-testid="sync-phase">{status?.phase ?? 'not syncing'}</span>{' '}
      <span data-testid="pending">{status?.pendingCount ?? 0} pending</span>{' '}
      {status?.lastError ? <span data-testid="sync-error">{status.lastError.message}</span> : null}
      <button onClick={syncNow}>Sync now</button>
      {error ? <span role="alert">{error}</span> : null}
    </header>
  );
}

function Projects(props: { selected: string | null; onSelect: (id: string) => void }): ReactNode {
  const orm = useOrm();
  const { rows } = useQuery(
    orm
      .select({ id: projects.id, name: projects.name, open: count(tasks.id) })
      .from(projects)
      .leftJoin(tasks, eq(tasks.projectId, projects.id))
      .groupBy(projects.id)
      .orderBy(asc(projects.name)),
  );
  const [name, setName] = useState('');
  const add = async (event: FormEvent) => {
    event.preventDefault();
    if (name.trim() === '') return;
    const now = new Date().toISOString();
    const id = crypto.randomUUID();
    await orm.insert(projects).values({ id, name: name.trim(), createdAt: now, updatedAt: now });
    setName('');
    props.onSelect(id);
  };
  return (
    <nav>
      <ul data-testid="projects">
        {rows.map((p) => (
          <li key={p.id}>
            <button aria-pressed={p.id === props.selected} onClick={() => props.onSelect(p.id)}>
              {p.name} ({p.open})
            </button>
          </li>
        ))}
      </ul>
      <form onSubmit={add}>
        <input aria-label="New project" value={name} onChange={(e) => setName(e.target.value)} />
        <button>Add project</button>
      </form>
    </nav>
  );
}

function Tasks(props: { projectId: string }): ReactNode {
  const orm = useOrm();
  const { rows, loading } = useQuery(
    orm
      .select({ id: tasks.id, title: tasks.title, done: tasks.done })
      .from(tasks)
      .where(eq(tasks.projectId, props.projectId))
      .orderBy(asc(tasks.position), asc(tasks.title)),
  );
  const [title, setTitle] = useState('');
  const add = async (event: FormEvent) => {
    event.preventDefault();
    if (title.trim() === '') return;
    await orm.insert(tasks).values({
      id: crypto.randomUUID(),
      projectId: props.projectId,
      title: title.trim(),
      position: rows.length,
      updatedAt: new Date().toISOString(),
    });
    setTitle('');
  };
  // One atomic write: the task's done flag and its project's updated_at change together.
  const toggle = (id: string, done: boolean) =>
    orm.batch([
      orm.update(tasks).set({ done: !done, updatedAt: new Date().toISOString() }).where(eq(tasks.id, id)),
      orm.update(projects).set({ updatedAt: new Date().toISOString() }).where(eq(projects.id, props.projectId)),
    ]);
  return (
    <section>
      {loading ? <p>Loading…</p> : null}
      <ul data-testid="tasks">
        {rows.map((t) => (
          <li key={t.id}>
            <label>
              <input type="checkbox" checked={t.done} onChange={() => void toggle(t.id, t.done)} /> {t.title}
            </label>
          </li>
        ))}
      </ul>
      <form onSubmit={add}>
        <input aria-label="New task" value={title} onChange={(e) => setTitle(e.target.value)} />
        <button>Add task</button>
      </form>
    </section>
  );
}

export function App(): ReactNode {
  const [selected, setSelected] = useState<string | null>(null);
  return (
    <>
      <SyncBar />
      <main>
        <Projects selected={selected} onSelect={setSelected} />
        {selected ? <Tasks projectId={selected} /> : <p>Pick or add a project.</p>}
      </main>
    </>
  );
}
