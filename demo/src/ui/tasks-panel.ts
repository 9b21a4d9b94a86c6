/**
 * The tasks column of the selected project: add a task, tick it done, pick one to open its
 * details. The list is a live query over the local database, so edits from this tab, other tabs
 * and (after sync) other devices all arrive the same way.
 */
import type { LiveQuery } from '../../../src/index.ts';
import type { DemoStore, ProjectRow, TaskRow } from '../store.ts';
import { countOf, formatWhen, h, isOverdue, setChildren, updateKeyedList } from './dom.ts';

/** Priority labels by stored value (INTEGER 0–3). */
export const priorities = ['None', 'Low', 'Medium', 'High'] as const;

/** The tasks panel. */
export class TasksPanel {
  readonly element: HTMLElement;
  private readonly header = h('div', { class: 'panel-header' });
  private readonly list = h('ul', { class: 'task-list', 'data-testid': 'task-list' });
  private readonly form: HTMLFormElement;
  private query: LiveQuery | null = null;
  private project: ProjectRow | null = null;
  private selectedTaskId: string | null = null;
  private rows: TaskRow[] = [];

  constructor(
    private readonly store: DemoStore,
    private readonly onOpenTask: (taskId: string | null) => void,
  ) {
    const title = h('input', { placeholder: 'Add a task…', required: true, maxlength: 200, 'data-testid': 'new-task-title' });
    const priority = h(
      'select',
      { 'data-testid': 'new-task-priority', 'aria-label': 'Priority' },
      ...priorities.map((label, value) => h('option', { value, selected: value === 0 }, label)),
    );
    this.form = h(
      'form',
      {
        class: 'inline-form add-task',
        onsubmit: (event: Event) => {
          event.preventDefault();
          const text = title.value.trim();
          if (text === '') return;
          if (this.project === null) {
            // The form is hidden without a project; should it be submitted anyway, say why nothing happens.
            this.list.replaceChildren(
              h('li', { class: 'empty', role: 'alert' }, 'Tasks belong to a project: create one under Projects first.'),
            );
            return;
          }
          const chosen = Number(priority.value);
          title.value = '';
          priority.value = '0';
          void store.addTask(this.project.id, text, chosen);
        },
      },
      title,
      priority,
      h('button', { type: 'submit', class: 'primary', 'data-testid': 'add-task' }, 'Add'),
    );
    this.element = h('section', { class: 'card tasks' }, this.header, this.form, this.list);
    this.showProject(null);
  }

  /** Shows the tasks of `project` (re-renders the header when only its name changed). */
  showProject(project: ProjectRow | null): void {
    const sameProject = project !== null && this.project?.id === project.id;
    this.project = project;
    this.renderHeader();
    if (sameProject) return;
    this.query?.close();
    this.query = null;
    this.list.replaceChildren();
    this.rows = [];
    this.form.hidden = project === null;
    this.openTask(null);
    if (project === null) {
      this.list.append(
        h('li', { class: 'empty', 'data-testid': 'no-project' }, 'Tasks belong to a project: create one under Projects to start.'),
      );
      return;
    }
    this.query = this.store.liveTasks(project.id, (rows) => this.render(rows));
  }

  /** Stops the live query. */
  close(): void {
    this.query?.close();
  }

  private openTask(taskId: string | null): void {
    this.selectedTaskId = taskId;
    for (const row of Array.from(this.list.children) as HTMLElement[]) row.classList.toggle('selected', row.dataset.key === taskId);
    this.onOpenTask(taskId);
  }

  private renderHeader(): void {
    const project = this.project;
    if (project === null) {
      setChildren(this.header, h('h2', {}, 'Tasks'));
      return;
    }
    setChildren(
      this.header,
      h(
        'h2',
        { 'data-testid': 'project-title' },
        h('span', { class: 'swatch', style: `background:${project.color ?? '#9ca3af'}` }),
        project.name,
      ),
      h(
        'button',
        {
          class: 'ghost danger small',
          'data-testid': 'delete-project',
          onclick: () => {
            if (confirm(`Delete “${project.name}” with its ${countOf(project.task_count, 'task')}?`))
              void this.store.deleteProject(project.id);
          },
        },
        'Delete project',
      ),
    );
  }

  private render(rows: TaskRow[]): void {
    this.rows = rows;
    if (rows.length === 0) {
      this.list.replaceChildren(h('li', { class: 'empty' }, 'No tasks yet. Add one above.'));
    } else {
      this.list.querySelector('.empty')?.remove();
      updateKeyedList(
        this.list,
        rows,
        (t) => t.id,
        (t) => JSON.stringify([t, t.id === this.selectedTaskId]),
        (t) => this.renderTask(t),
      );
    }
    if (this.selectedTaskId !== null && !rows.some((t) => t.id === this.selectedTaskId)) this.openTask(null);
  }

  /** Moves a task one place up (-1) or down (+1) among the tasks with the same done state. */
  private move(task: TaskRow, direction: -1 | 1): void {
    const group = this.rows.filter((t) => t.done === task.done);
    const index = group.findIndex((t) => t.id === task.id);
    const neighbour = group[index + direction];
    if (index < 0 || neighbour === undefined) return;
    const beyond = group[index + 2 * direction];
    // Land between the neighbour and the task beyond it.
    if (direction === -1) void this.store.moveTask(task.id, beyond?.position ?? null, neighbour.position);
    else void this.store.moveTask(task.id, neighbour.position, beyond?.position ?? null);
  }

  /** "due Dec 1, 2026", or marked "overdue" when the day has passed and the task is open. */
  private dueLabel(task: TaskRow): HTMLElement {
    const when = formatWhen(task.due_at, true);
    return task.done === 0 && isOverdue(task.due_at)
      ? h('span', { class: 'due overdue small', 'data-testid': 'task-overdue', title: `Overdue since ${when}` }, `overdue · ${when}`)
      : h('span', { class: 'due muted small' }, `due ${when}`);
  }

  private renderTask(task: TaskRow): HTMLElement {
    const moveButton = (direction: -1 | 1, label: string, glyph: string): HTMLButtonElement =>
      h(
        'button',
        {
          class: 'icon-button move',
          'aria-label': label,
          title: label,
          'data-testid': direction === -1 ? 'move-up' : 'move-down',
          onclick: (event: Event) => {
            event.stopPropagation();
            this.move(task, direction);
          },
        },
        glyph,
      );
    const done = h('input', {
      type: 'checkbox',
      checked: task.done === 1,
      'aria-label': 'Done',
      'data-testid': 'task-done',
      onclick: (event: Event) => event.stopPropagation(),
      onchange: (event: Event) => void this.store.updateTask(task.id, { done: (event.target as HTMLInputElement).checked ? 1 : 0 }),
    });
    return h(
      'li',
      {
        class: ['task', task.done === 1 ? 'done' : '', task.id === this.selectedTaskId ? 'selected' : ''].join(' ').trim(),
        'data-testid': 'task',
        'data-title': task.title,
        onclick: () => this.openTask(task.id),
      },
      done,
      h('span', { class: 'task-title', 'data-testid': 'task-title' }, task.title),
      task.priority > 0
        ? h('span', { class: `priority priority-${task.priority}` }, priorities[task.priority] ?? String(task.priority))
        : null,
      task.due_at !== null ? this.dueLabel(task) : null,
      task.comment_count > 0 ? h('span', { class: 'comment-count' }, countOf(task.comment_count, 'comment')) : null,
      h('span', { class: 'move-buttons' }, moveButton(-1, 'Move up', '↑'), moveButton(1, 'Move down', '↓')),
    );
  }
}
