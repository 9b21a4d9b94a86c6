/**
 * The task details column: title, notes, done, priority and due date saved as you edit, and the
 * task's comments. Fields being edited are not overwritten by live updates; everything else
 * follows the database (a remote edit shows up here as soon as it is pulled).
 */
import type { LiveQuery } from '../../../src/index.ts';
import type { CommentRow, DemoStore, TaskRow } from '../store.ts';
import { formatWhen, h, setChildren, updateKeyedList } from './dom.ts';
import { priorities } from './tasks-panel.ts';

/** `yyyy-mm-dd` (local) of a stored timestamp, for a date input. */
function dateInputValue(timestamp: string | null): string {
  if (timestamp === null) return '';
  const date = new Date(timestamp);
  if (Number.isNaN(date.getTime())) return '';
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** The task detail panel. */
export class TaskDetail {
  readonly element = h('section', { class: 'card detail', 'data-testid': 'task-detail' });
  private readonly title = h('input', {
    class: 'title-input',
    maxlength: 200,
    'aria-label': 'Title',
    title: 'Click to rename',
    'data-testid': 'detail-title',
  });
  private readonly notes = h('textarea', { rows: 4, placeholder: 'Notes', 'aria-label': 'Notes', 'data-testid': 'detail-notes' });
  private readonly done = h('input', { type: 'checkbox', 'data-testid': 'detail-done' });
  private readonly priority = h(
    'select',
    { 'aria-label': 'Priority', 'data-testid': 'detail-priority' },
    ...priorities.map((label, value) => h('option', { value }, label)),
  );
  private readonly due = h('input', { type: 'date', 'aria-label': 'Due date', 'data-testid': 'detail-due' });
  private readonly updated = h('p', { class: 'muted small' });
  private readonly comments = h('ul', { class: 'comments', 'data-testid': 'comments' });
  private readonly commentInput = h('input', {
    placeholder: 'Write a comment…',
    required: true,
    maxlength: 1000,
    'data-testid': 'new-comment',
  });
  private taskId: string | null = null;
  private queries: LiveQuery[] = [];

  constructor(private readonly store: DemoStore) {
    const save = (patch: Parameters<DemoStore['updateTask']>[1]): void => {
      if (this.taskId !== null) void store.updateTask(this.taskId, patch);
    };
    this.title.addEventListener('change', () => {
      const value = this.title.value.trim();
      if (value !== '') save({ title: value });
    });
    this.title.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') this.title.blur();
    });
    this.notes.addEventListener('change', () => save({ notes: this.notes.value }));
    this.done.addEventListener('change', () => save({ done: this.done.checked ? 1 : 0 }));
    this.priority.addEventListener('change', () => save({ priority: Number(this.priority.value) }));
    this.due.addEventListener('change', () =>
      save({ due_at: this.due.value === '' ? null : new Date(`${this.due.value}T00:00`).toISOString() }),
    );
    this.show(null);
  }

  /** Shows task `taskId` (null: the placeholder). */
  show(taskId: string | null): void {
    if (taskId === this.taskId && taskId !== null) return;
    for (const query of this.queries) query.close();
    this.queries = [];
    this.taskId = taskId;
    if (taskId === null) {
      setChildren(this.element, h('p', { class: 'empty' }, 'Select a task to see its details and comments.'));
      return;
    }
    const form = h(
      'form',
      {
        class: 'inline-form',
        onsubmit: (event: Event) => {
          event.preventDefault();
          const body = this.commentInput.value.trim();
          if (body === '') return;
          this.commentInput.value = '';
          void this.store.addComment(taskId, body);
        },
      },
      this.commentInput,
      h('button', { type: 'submit', class: 'primary', 'data-testid': 'add-comment' }, 'Comment'),
    );
    const rename = h(
      'button',
      {
        type: 'button',
        class: 'icon-button rename',
        'aria-label': 'Rename task',
        title: 'Rename task',
        'data-testid': 'rename-task',
        onclick: () => {
          this.title.focus();
          this.title.select();
        },
      },
      '✎',
    );
    setChildren(
      this.element,
      h('div', { class: 'title-row' }, this.title, rename),
      h('p', { class: 'hint' }, 'Click the title (or ✎) to rename; edits save when you leave a field.'),
      h(
        'div',
        { class: 'field-row' },
        h('label', { class: 'check' }, this.done, 'Done'),
        h('label', {}, 'Priority', this.priority),
        h('label', {}, 'Due', this.due),
      ),
      this.notes,
      this.updated,
      h(
        'div',
        { class: 'row-actions' },
        h(
          'button',
          { class: 'ghost danger small', 'data-testid': 'delete-task', onclick: () => void this.store.deleteTask(taskId) },
          'Delete task',
        ),
      ),
      h('h3', {}, 'Comments'),
      this.comments,
      form,
    );
    this.comments.replaceChildren();
    this.queries.push(
      this.store.liveTask(taskId, (rows) => this.renderTask(rows[0] ?? null)),
      this.store.liveComments(taskId, (rows) => this.renderComments(rows)),
    );
  }

  /** Stops the live queries. */
  close(): void {
    for (const query of this.queries) query.close();
  }

  private renderTask(task: TaskRow | null): void {
    if (task === null) return; // deleted; the task list closes this panel
    // Never overwrite what the user is typing; the saved value arrives with the next update.
    const set = (input: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement, value: string): void => {
      if (document.activeElement !== input && input.value !== value) input.value = value;
    };
    set(this.title, task.title);
    set(this.notes, task.notes ?? '');
    set(this.priority, String(task.priority));
    set(this.due, dateInputValue(task.due_at));
    this.done.checked = task.done === 1;
    this.updated.textContent = `Last edited ${formatWhen(task.updated_at)}`;
  }

  private renderComments(rows: CommentRow[]): void {
    if (rows.length === 0) {
      this.comments.replaceChildren(h('li', { class: 'empty' }, 'No comments yet.'));
      return;
    }
    this.comments.querySelector('.empty')?.remove();
    updateKeyedList(
      this.comments,
      rows,
      (c) => c.id,
      (c) => JSON.stringify(c),
      (c) =>
        h(
          'li',
          { class: 'comment', 'data-testid': 'comment' },
          h('p', {}, c.body),
          h('span', { class: 'muted small' }, formatWhen(c.created_at)),
          h('button', { class: 'icon-button', 'aria-label': 'Delete comment', onclick: () => void this.store.deleteComment(c.id) }, '×'),
        ),
    );
  }
}
