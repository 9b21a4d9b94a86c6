/**
 * The projects column: every project with its open-task count (a live query, so projects created
 * in other tabs or on other devices appear on their own) and a form to add one.
 */
import type { LiveQuery } from '../../../src/index.ts';
import { projectColors } from '../store.ts';
import type { DemoStore, ProjectRow } from '../store.ts';
import { countOf, h, updateKeyedList } from './dom.ts';

/** The projects panel. */
export class ProjectsPanel {
  readonly element: HTMLElement;
  private readonly list = h('ul', { class: 'project-list', 'data-testid': 'project-list' });
  private readonly query: LiveQuery;
  private rows: ProjectRow[] = [];
  private selectedId: string | null = null;
  /** A project this tab just created: selected before the live query has delivered it. */
  private createdId: string | null = null;

  constructor(
    store: DemoStore,
    private readonly onSelect: (project: ProjectRow | null) => void,
  ) {
    const name = h('input', { placeholder: 'New project', required: true, maxlength: 80, 'data-testid': 'new-project-name' });
    const form = h(
      'form',
      {
        class: 'inline-form',
        onsubmit: (event: Event) => {
          event.preventDefault();
          const title = name.value.trim();
          if (title === '') return;
          name.value = '';
          const color = projectColors[this.rows.length % projectColors.length]!;
          void store.addProject(title, color).then((id) => {
            this.createdId = id;
            this.select(id);
          });
        },
      },
      name,
      h('button', { type: 'submit', class: 'primary', 'data-testid': 'add-project' }, 'Add'),
    );
    this.element = h('section', { class: 'card projects' }, h('h2', {}, 'Projects'), this.list, form);
    this.query = store.liveProjects((rows) => this.render(rows));
  }

  /** Selects a project by id (null: none). */
  select(id: string | null): void {
    this.selectedId = id;
    this.render(this.rows);
  }

  /** Stops the live query. */
  close(): void {
    this.query.close();
  }

  private render(rows: ProjectRow[]): void {
    this.rows = rows;
    if (rows.some((r) => r.id === this.createdId)) this.createdId = null;
    // Keep a valid selection: the first project when none (or a deleted one) is selected.
    const known = rows.some((r) => r.id === this.selectedId) || (this.selectedId !== null && this.selectedId === this.createdId);
    if (!known) this.selectedId = rows[0]?.id ?? null;
    updateKeyedList(
      this.list,
      rows,
      (r) => r.id,
      (r) => JSON.stringify([r, r.id === this.selectedId]),
      (r) =>
        h(
          'li',
          {
            class: r.id === this.selectedId ? 'project selected' : 'project',
            'data-testid': 'project',
            onclick: () => this.select(r.id),
          },
          h('span', { class: 'swatch', style: `background:${r.color ?? '#9ca3af'}` }),
          h('span', { class: 'project-name' }, r.name),
          h(
            'span',
            { class: 'count', 'data-testid': 'project-open-count', title: `${r.open_count} open of ${countOf(r.task_count, 'task')}` },
            `${r.open_count} open`,
          ),
        ),
    );
    if (rows.length === 0) this.list.replaceChildren(h('li', { class: 'empty' }, 'No projects yet.'));
    else this.list.querySelector('.empty')?.remove();
    // A just-created project is announced once its row arrives.
    if (this.selectedId !== this.createdId) this.onSelect(rows.find((r) => r.id === this.selectedId) ?? null);
  }
}
