// The executions list: newest first, filtered by status, paged with the
// API's cursor ("Load more"). A link per execution opens its live page.

import { getJSON } from './api.js';
import { badge, h, replace } from './dom.js';
import { timeEl } from './format.js';

const STATUSES = ['IN_PROGRESS', 'PENDING', 'COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT'];
const PAGE = 50;

export function showList(root) {
  document.title = 'Executions — Ripcord';
  const params = new URLSearchParams(location.search);
  const statusSelect = h('select', { id: 'status-filter', 'data-testid': 'status-filter' },
    h('option', { value: '' }, 'All'),
    STATUSES.map((s) => h('option', { value: s }, s.replace('_', ' '))));
  statusSelect.value = params.get('status') || '';
  const refresh = h('button', { type: 'button', class: 'btn' }, 'Refresh');
  const body = h('tbody', {});
  const more = h('button', { type: 'button', class: 'btn', hidden: true, 'data-testid': 'load-more' }, 'Load more');
  const message = h('p', { class: 'muted', role: 'status' });
  let cursor = null;

  async function load(reset) {
    if (reset) {
      cursor = null;
      body.replaceChildren();
    }
    message.textContent = 'Loading…';
    const query = new URLSearchParams({ limit: String(PAGE) });
    if (statusSelect.value) query.set('status', statusSelect.value);
    if (cursor) query.set('cursor', cursor);
    try {
      const page = await getJSON(`/api/executions?${query}`);
      for (const e of page.items) body.appendChild(row(e));
      cursor = page.nextCursor || null;
      more.hidden = !cursor;
      message.textContent = body.childElementCount ? '' : 'No executions yet. Start one with `ripcord start plan.yaml`.';
    } catch (e) {
      message.textContent = `Could not load executions: ${e.message}`;
    }
  }

  statusSelect.addEventListener('change', () => {
    const url = new URL(location.href);
    if (statusSelect.value) url.searchParams.set('status', statusSelect.value);
    else url.searchParams.delete('status');
    history.replaceState(null, '', url);
    load(true);
  });
  refresh.addEventListener('click', () => load(true));
  more.addEventListener('click', () => load(false));

  replace(root, h('section', { class: 'panel list-panel', 'aria-labelledby': 'list-title' },
    h('div', { class: 'list-head' },
      h('h1', { id: 'list-title' }, 'Executions'),
      h('div', { class: 'filters' },
        h('div', { class: 'field field-inline' }, h('label', { for: 'status-filter' }, 'Status'), statusSelect),
        refresh)),
    h('table', { class: 'exec-table', 'data-testid': 'executions' },
      h('thead', {}, h('tr', {},
        ['Status', 'Plan', 'Mode', 'Started', 'Execution'].map((c) => h('th', { scope: 'col' }, c)))),
      body),
    message, more));
  load(true);
}

function row(e) {
  const href = `/executions/${encodeURIComponent(e.executionId)}`;
  return h('tr', { 'data-testid': 'execution-row', 'data-execution-id': e.executionId, 'data-status': e.status },
    h('td', {}, badge(e.status)),
    h('td', {}, h('a', { href, class: 'plan-link' }, e.planName)),
    h('td', {}, h('span', { class: `mode-pill${e.mode === 'recovery' ? ' mode-recovery' : ''}` }, e.mode === 'recovery' ? 'RECOVERY' : 'DRILL')),
    h('td', {}, timeEl(e.startTime)),
    h('td', {}, h('a', { href, class: 'mono' }, e.executionId)));
}
