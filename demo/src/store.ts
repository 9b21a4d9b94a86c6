/**
 * The demo's data layer over one oversqlite database: opening it with sync, the live queries the
 * screens render, and the writes they make. Every write is a plain SQL statement on the local
 * database; the sync engine captures it and pushes it (automatic sync is on).
 */
import { openDatabase } from '../../src/index.ts';
import type { Database, LiveQuery, SqlStatement } from '../../src/index.ts';
import { databaseName, serverUrl } from './config.ts';
import { resolveByLatestEdit } from './conflict-policy.ts';
import { appSchema, remoteSchema, syncedTables } from './schema.ts';
import { tokenSource } from './session.ts';

/** A project row with its open task count. */
export interface ProjectRow {
  id: string;
  name: string;
  color: string | null;
  open_count: number;
  task_count: number;
}

/** A task row as listed. */
export interface TaskRow {
  id: string;
  project_id: string;
  title: string;
  notes: string | null;
  done: number;
  priority: number;
  position: number;
  due_at: string | null;
  updated_at: string;
  comment_count: number;
}

/** A comment row. */
export interface CommentRow {
  id: string;
  task_id: string;
  body: string;
  created_at: string;
}

/** Editable task fields. */
export type TaskPatch = Partial<Pick<TaskRow, 'title' | 'notes' | 'done' | 'priority' | 'due_at'>>;

/** Project colours offered by the UI (stored as text on the server). */
export const projectColors = ['#4f46e5', '#0ea5e9', '#10b981', '#f59e0b', '#ef4444', '#a855f7'] as const;

/** Opens (creating and migrating) the demo database, with sync to the demo server. */
export function openDemoDatabase(): Promise<Database> {
  return openDatabase({
    name: databaseName,
    schema: appSchema,
    sync: {
      serverUrl,
      remoteSchema,
      tables: syncedTables,
      getToken: tokenSource(serverUrl),
      conflicts: resolveByLatestEdit,
      // Push shortly after each write, poll every 30 s, and wake on the server's change stream.
      autoSync: { debounceMs: 300, intervalMs: 30_000, watch: true },
    },
  });
}

/** The columns {@link DemoStore.updateTask} may set (its SQL is built from these names only). */
const editableTaskColumns = new Set(['title', 'notes', 'done', 'priority', 'due_at']);

function now(): string {
  return new Date().toISOString();
}

/** Reads and writes of the demo's tables. */
export class DemoStore {
  /** Names of rows seen by the lists, so a notice can still name a row sync just deleted. */
  private readonly seenLabels = new Map<string, string>();

  constructor(readonly db: Database) {}

  /** Projects with task counts, oldest first. */
  liveProjects(onRows: (rows: ProjectRow[]) => void): LiveQuery {
    return this.db.live<ProjectRow>(
      `SELECT p.id, p.name, p.color,
              (SELECT count(*) FROM tasks t WHERE t.project_id = p.id AND t.done = 0) AS open_count,
              (SELECT count(*) FROM tasks t WHERE t.project_id = p.id) AS task_count
         FROM projects p ORDER BY p.created_at, p.id`,
      [],
      (rows) => {
        for (const row of rows) this.seenLabels.set(row.id, row.name);
        onRows(rows);
      },
    );
  }

  /** Tasks of a project: open ones first, then by position. */
  liveTasks(projectId: string, onRows: (rows: TaskRow[]) => void): LiveQuery {
    return this.db.live<TaskRow>(
      `SELECT t.*, (SELECT count(*) FROM comments c WHERE c.task_id = t.id) AS comment_count
         FROM tasks t WHERE t.project_id = ? ORDER BY t.done, t.position, t.id`,
      [projectId],
      (rows) => {
        for (const row of rows) this.seenLabels.set(row.id, row.title);
        onRows(rows);
      },
    );
  }

  /** One task (zero or one row). */
  liveTask(taskId: string, onRows: (rows: TaskRow[]) => void): LiveQuery {
    return this.db.live<TaskRow>(
      `SELECT t.*, (SELECT count(*) FROM comments c WHERE c.task_id = t.id) AS comment_count FROM tasks t WHERE t.id = ?`,
      [taskId],
      onRows,
    );
  }

  /** Comments of a task, oldest first. */
  liveComments(taskId: string, onRows: (rows: CommentRow[]) => void): LiveQuery {
    return this.db.live<CommentRow>('SELECT * FROM comments WHERE task_id = ? ORDER BY created_at, id', [taskId], onRows);
  }

  /** Creates a project; returns its id. */
  async addProject(name: string, color: string): Promise<string> {
    const id = crypto.randomUUID();
    const at = now();
    await this.db.exec('INSERT INTO projects (id, name, color, created_at, updated_at) VALUES (?, ?, ?, ?, ?)', [id, name, color, at, at]);
    return id;
  }

  /** Renames a project. */
  async renameProject(id: string, name: string): Promise<void> {
    await this.db.exec('UPDATE projects SET name = ?, updated_at = ? WHERE id = ?', [name, now(), id]);
  }

  /** Deletes a project with its tasks and their comments (the foreign keys cascade). */
  async deleteProject(id: string): Promise<void> {
    await this.db.exec('DELETE FROM projects WHERE id = ?', [id]);
  }

  /** Appends a task to a project; returns its id. */
  async addTask(projectId: string, title: string, priority: number): Promise<string> {
    const id = crypto.randomUUID();
    // Position is REAL so a task can later be moved between two others without renumbering.
    await this.db.exec(
      `INSERT INTO tasks (id, project_id, title, notes, done, priority, position, due_at, updated_at)
       VALUES (?, ?, ?, '', 0, ?, (SELECT coalesce(max(position), 0) + 1 FROM tasks WHERE project_id = ?), NULL, ?)`,
      [id, projectId, title, priority, projectId, now()],
    );
    return id;
  }

  /**
   * Creates a project with `count` generated tasks in one transaction: enough rows to watch the
   * push, and the download progress when another device signs in.
   */
  async addSampleProject(count: number): Promise<string> {
    const projectId = crypto.randomUUID();
    const at = now();
    const verbs = ['Review', 'Draft', 'Plan', 'Fix', 'Test', 'Ship', 'Measure', 'Tidy'];
    const things = ['the roadmap', 'onboarding', 'the budget', 'search', 'the sync badge', 'release notes', 'the inbox', 'docs'];
    const statements: SqlStatement[] = [
      {
        sql: 'INSERT INTO projects (id, name, color, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
        params: [projectId, `Sample data (${count} tasks)`, '#a855f7', at, at],
      },
    ];
    for (let i = 0; i < count; i++) {
      statements.push({
        sql: `INSERT INTO tasks (id, project_id, title, notes, done, priority, position, due_at, updated_at)
              VALUES (?, ?, ?, NULL, ?, ?, ?, NULL, ?)`,
        params: [
          crypto.randomUUID(),
          projectId,
          `${verbs[i % verbs.length]} ${things[(i * 5) % things.length]} #${i + 1}`,
          i % 3 === 0 ? 1 : 0,
          i % 4,
          i + 1,
          at,
        ],
      });
    }
    await this.db.transaction(statements);
    return projectId;
  }

  /** Changes some fields of a task and stamps `updated_at` (the conflict policy compares it). */
  async updateTask(id: string, patch: TaskPatch): Promise<void> {
    const entries = Object.entries(patch).filter(([column, value]) => value !== undefined && editableTaskColumns.has(column));
    if (entries.length === 0) return;
    const assignments = entries.map(([column]) => `${column} = ?`).join(', ');
    await this.db.exec(`UPDATE tasks SET ${assignments}, updated_at = ? WHERE id = ?`, [
      ...entries.map(([, value]) => value as string | number | null),
      now(),
      id,
    ]);
  }

  /**
   * Moves a task to a new position between two neighbours (null: no neighbour on that side).
   * Positions are REAL, so the midpoint always fits without renumbering other tasks.
   */
  async moveTask(id: string, after: number | null, before: number | null): Promise<void> {
    const position = after === null ? (before ?? 1) - 1 : before === null ? after + 1 : (after + before) / 2;
    await this.db.exec('UPDATE tasks SET position = ?, updated_at = ? WHERE id = ?', [position, now(), id]);
  }

  /** Deletes a task and its comments. */
  async deleteTask(id: string): Promise<void> {
    await this.db.exec('DELETE FROM tasks WHERE id = ?', [id]);
  }

  /** Adds a comment to a task. */
  async addComment(taskId: string, body: string): Promise<void> {
    await this.db.exec('INSERT INTO comments (id, task_id, body, created_at) VALUES (?, ?, ?, ?)', [
      crypto.randomUUID(),
      taskId,
      body,
      now(),
    ]);
  }

  /** Deletes a comment. */
  async deleteComment(id: string): Promise<void> {
    await this.db.exec('DELETE FROM comments WHERE id = ?', [id]);
  }

  /** The title of a task or name of a project, for notices (the last one seen when it is gone; null if never seen). */
  async describe(table: string, key: string): Promise<string | null> {
    const sql =
      table === 'tasks'
        ? 'SELECT title AS label FROM tasks WHERE id = ?'
        : table === 'projects'
          ? 'SELECT name AS label FROM projects WHERE id = ?'
          : 'SELECT body AS label FROM comments WHERE id = ?';
    const rows = await this.db.query<{ label: string }>(sql, [key]);
    return rows[0]?.label ?? this.seenLabels.get(key) ?? null;
  }
}
