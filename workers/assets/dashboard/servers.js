// The server table: every server of the execution, filtered by launch
// status, wave and free text, virtualized — rows have a fixed height and
// only the visible ones (plus a few either side) are in the DOM — so 4,000
// servers scroll as smoothly as 10. ARIA table roles keep it a table for
// screen readers (aria-rowcount / aria-rowindex give the full size).

import { cleanupBadge } from './cleanup.js';
import { badge, h, replace } from './dom.js';
import { formatDuration, parseTime, timeEl } from './format.js';

export const ROW_HEIGHT = 36;
const OVERSCAN = 8;
const LAUNCH_STATUSES = ['PENDING', 'LAUNCHING', 'LAUNCHED', 'COMPLETED', 'FAILED'];
const HEALTH_STATUSES = ['PENDING', 'NOT_CHECKED', 'CHECKING', 'HEALTHY', 'UNHEALTHY', 'TIMEOUT'];

const COLUMNS = [
  ['Wave', 'col-wave'],
  ['Hostname', 'col-host'],
  ['Source server', 'col-source'],
  ['Launch', 'col-launch'],
  ['Instance', 'col-instance'],
  ['Private IP', 'col-ip'],
  ['Public IP', 'col-ip'],
  ['Health', 'col-health'],
  ['Duration', 'col-duration'],
  ['Error', 'col-error'],
];

export function consoleUrl(region, instanceId) {
  const r = encodeURIComponent(region);
  return `https://${r}.console.aws.amazon.com/ec2/home?region=${r}#InstanceDetails:instanceId=${encodeURIComponent(instanceId)}`;
}

/** The region of a server: the view's, else derived from the availability zone. */
export function regionOf(view, server) {
  if (view.region) return view.region;
  const az = server.availabilityZone;
  return az && /\d[a-z]$/.test(az) ? az.slice(0, -1) : null;
}

// Lower-cased searchable text per server object; server objects are
// replaced (not mutated) when their wave changes, so the cache stays true.
const haystacks = new WeakMap();
function haystack(server) {
  let text = haystacks.get(server);
  if (text === undefined) {
    text = [server.hostname, server.sourceServerId, server.launchedInstanceId,
      server.recoveryInstanceId, server.privateIpAddress, server.publicIpAddress,
      server.errorMessage, server.errorCode, server.instanceType]
      .filter(Boolean).join(' ').toLowerCase();
    haystacks.set(server, text);
  }
  return text;
}

export class ServerTable {
  /** onShowServer(row) opens a server's details; onFilter() after filters change. */
  constructor({ onShowServer, onFilter }) {
    this.onShowServer = onShowServer;
    this.onFilter = onFilter;
    this.view = null;
    this.all = [];
    this.rows = [];
    this.filters = { status: '', health: '', wave: '', text: '' };
    this.now = Date.now();
    this.build();
  }

  build() {
    this.search = h('input', {
      type: 'search', id: 'server-search', placeholder: 'Hostname, id, IP, error…',
      'data-testid': 'server-search', 'aria-label': 'Search servers',
    });
    this.statusSelect = select('server-filter-status', 'Launch status', LAUNCH_STATUSES);
    this.healthSelect = select('server-filter-health', 'Health', HEALTH_STATUSES);
    this.waveSelect = select('server-filter-wave', 'Wave', []);
    this.count = h('span', { class: 'filter-count', 'data-testid': 'server-count', 'aria-live': 'polite' });
    this.clear = h('button', { type: 'button', class: 'btn btn-small', hidden: true }, 'Clear filters');

    this.searchTimer = null;
    this.search.addEventListener('input', () => {
      clearTimeout(this.searchTimer);
      this.searchTimer = setTimeout(() => this.setFilter({ text: this.search.value }), 120);
    });
    this.statusSelect.querySelector('select').addEventListener('change', (e) => this.setFilter({ status: e.target.value }));
    this.healthSelect.querySelector('select').addEventListener('change', (e) => this.setFilter({ health: e.target.value }));
    this.waveSelect.querySelector('select').addEventListener('change', (e) => this.setFilter({ wave: e.target.value }));
    this.clear.addEventListener('click', () => this.setFilter({ status: '', health: '', wave: '', text: '' }));

    this.header = h('div', { class: 'srv-row srv-head', role: 'row', 'aria-rowindex': 1 },
      COLUMNS.map(([label, cls]) => h('div', { role: 'columnheader', class: `srv-cell ${cls}` }, label)));
    this.body = h('div', { class: 'srv-body', role: 'rowgroup' });
    this.empty = h('p', { class: 'srv-empty', hidden: true }, 'No server matches these filters.');
    this.scroller = h('div', {
      class: 'srv-scroll', role: 'table', id: 'server-table', 'data-testid': 'server-table',
      'aria-label': 'Servers', tabindex: 0,
    }, h('div', { role: 'rowgroup', class: 'srv-headgroup' }, this.header), this.body, this.empty);
    this.scroller.addEventListener('scroll', () => this.schedule());
    new ResizeObserver(() => this.schedule()).observe(this.scroller);

    this.el = h('div', { class: 'servers' },
      h('div', { class: 'filters', role: 'search' },
        h('div', { class: 'field field-inline field-grow' }, h('label', { for: 'server-search' }, 'Search'), this.search),
        this.statusSelect, this.healthSelect, this.waveSelect, this.clear, this.count),
      this.scroller);
  }

  setFilter(change) {
    // The box holds the search text, typed or not yet applied: a change of
    // another filter takes it along rather than put back the old one.
    clearTimeout(this.searchTimer);
    Object.assign(this.filters, { text: this.search.value }, change);
    this.search.value = this.filters.text;
    this.statusSelect.querySelector('select').value = this.filters.status;
    this.healthSelect.querySelector('select').value = this.filters.health;
    this.waveSelect.querySelector('select').value = this.filters.wave;
    this.applyFilters();
    this.scroller.scrollTop = 0;
    this.onFilter?.();
  }

  /** New data: the view (for region and wave names) and the flat rows. */
  setView(view, all) {
    this.view = view;
    this.all = all;
    const waveSelect = this.waveSelect.querySelector('select');
    if (waveSelect.options.length !== view.waves.length + 1) {
      replace(waveSelect, h('option', { value: '' }, 'All'),
        view.waves.map((w) => h('option', { value: String(w.waveNumber) }, `${w.waveNumber} · ${w.name}`)));
      waveSelect.value = this.filters.wave;
    }
    this.applyFilters();
  }

  applyFilters() {
    const { status, health, wave, text } = this.filters;
    const terms = text.trim().toLowerCase().split(/\s+/).filter(Boolean);
    const waveNumber = wave ? Number(wave) : null;
    this.rows = this.all.filter((row) => {
      const s = row.server;
      if (status && s.launchStatus !== status) return false;
      if (health && s.healthStatus !== health) return false;
      if (waveNumber !== null && row.wave.waveNumber !== waveNumber) return false;
      if (terms.length) {
        const hay = haystack(s);
        return terms.every((t) => hay.includes(t));
      }
      return true;
    });
    const filtered = status || health || wave || terms.length;
    this.clear.hidden = !filtered;
    this.count.textContent = filtered
      ? `${this.rows.length.toLocaleString()} of ${this.all.length.toLocaleString()} servers`
      : `${this.all.length.toLocaleString()} servers`;
    this.scroller.setAttribute('aria-rowcount', String(this.rows.length + 1));
    this.body.style.height = `${this.rows.length * ROW_HEIGHT}px`;
    this.empty.hidden = this.rows.length > 0 || this.all.length === 0;
    this.renderedKey = null;
    this.schedule();
  }

  /** Re-renders the visible rows only when one of them is still launching. */
  tick(now) {
    this.now = now;
    if (!this.visibleRunning) return;
    this.renderedKey = null;
    this.schedule();
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = null;
      this.render();
    });
  }

  render() {
    const headerHeight = this.header.offsetHeight;
    const top = Math.max(0, this.scroller.scrollTop - headerHeight);
    const height = this.scroller.clientHeight;
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(this.rows.length, Math.ceil((top + height) / ROW_HEIGHT) + OVERSCAN);
    const key = `${first}:${last}`;
    if (key === this.renderedKey) return;
    this.renderedKey = key;
    const rows = [];
    this.visibleRunning = false;
    for (let i = first; i < last; i++) {
      const row = this.rows[i];
      if (row.server.launchStartTime && !row.server.launchEndTime) this.visibleRunning = true;
      rows.push(this.renderRow(row, i));
    }
    replace(this.body, rows);
  }

  renderRow({ wave, server: s }, index) {
    const region = regionOf(this.view, s);
    const instance = s.launchedInstanceId
      ? (region
        ? h('a', { href: consoleUrl(region, s.launchedInstanceId), target: '_blank', rel: 'noopener noreferrer', class: 'mono', title: `Open ${s.launchedInstanceId} in the EC2 console (${region})` }, s.launchedInstanceId)
        : h('span', { class: 'mono' }, s.launchedInstanceId))
      : h('span', { class: 'muted' }, '—');
    const start = parseTime(s.launchStartTime);
    const end = parseTime(s.launchEndTime);
    let duration = h('span', { class: 'muted' }, '—');
    if (start !== null) {
      duration = h('span', { title: end !== null ? 'Launch start → end' : 'Launching for' },
        end !== null ? formatDuration(end - start) : `${formatDuration(this.now - start)}…`);
    }
    const error = s.errorMessage
      ? h('button', {
        type: 'button', class: 'linklike error-text', title: 'Show the full error',
        'data-testid': 'server-error', onclick: () => this.onShowServer({ wave, server: s }),
      }, s.errorCode ? `${s.errorCode}: ${s.errorMessage}` : s.errorMessage)
      : h('span', { class: 'muted' }, '');
    const row = h('div', {
      class: `srv-row${s.launchStatus === 'FAILED' ? ' srv-failed' : ''}`, role: 'row',
      'aria-rowindex': index + 2, 'data-testid': 'server-row',
      'data-source-server-id': s.sourceServerId, 'data-status': s.launchStatus,
    },
    cell('col-wave', h('span', { title: wave.name }, String(wave.waveNumber))),
    cell('col-host', h('button', {
      type: 'button', class: 'linklike host', title: 'Server details',
      onclick: () => this.onShowServer({ wave, server: s }),
    }, s.hostname), s.critical ? null : h('span', { class: 'tag', title: 'Optional server (critical: false)' }, 'optional')),
    cell('col-source mono', s.sourceServerId),
    cell('col-launch', badge(s.launchStatus, { 'data-testid': 'server-launch-status' })),
    cell('col-instance', instance, cleanupBadge(s)),
    cell('col-ip mono', s.privateIpAddress || h('span', { class: 'muted' }, '—')),
    cell('col-ip mono', s.publicIpAddress || h('span', { class: 'muted' }, '—')),
    cell('col-health', badge(s.healthStatus, { class: 'badge-quiet' })),
    cell('col-duration', duration),
    cell('col-error', error));
    row.style.top = `${index * ROW_HEIGHT}px`;
    return row;
  }
}

function cell(cls, ...content) {
  return h('div', { role: 'cell', class: `srv-cell ${cls}` }, ...content);
}

function select(id, label, values) {
  return h('div', { class: 'field field-inline' },
    h('label', { for: id }, label),
    h('select', { id, 'data-testid': id },
      h('option', { value: '' }, 'All'),
      values.map((v) => h('option', { value: v }, v))));
}
