// The page of one execution: the summary (status, percent, counts, times,
// ETA), what pre-flight found, the waves timeline, the Gantt and the server
// table, kept live by the SSE stream, plus the Cancel, Approve and Clean up
// (cleanup.js) actions and operator control (Pause/Resume here, Retry/Skip on
// the waves: operator.js).

import { ApiError, getJSON, postJSON, storedToken } from './api.js';
import { CleanupControl } from './cleanup.js';
import { detailsDialog, formDialog } from './dialog.js';
import { badge, h, replace, TERMINAL_EXECUTION } from './dom.js';
import { clock, formatDuration, formatRelative, parseTime, timeEl } from './format.js';
import { Gantt } from './gantt.js';
import { LiveExecution } from './live.js';
import { operate, pausedNote, rememberedUser, rememberUser } from './operator.js';
import { PreflightPanel } from './preflight.js';
import { consoleUrl, regionOf, ServerTable } from './servers.js';
import { toast } from './toast.js';
import { WaveTimeline } from './waves.js';

export async function showExecution(root, executionId) {
  replace(root, h('p', { class: 'loading', 'data-testid': 'loading' }, 'Loading execution…'));
  const url = `/api/executions/${encodeURIComponent(executionId)}`;
  let view;
  try {
    view = await getJSON(url);
    // 202: queued, not yet started (no launch worker has taken it up);
    // shown until the execution exists.
    while (view.status === 'QUEUED') {
      showQueued(root, view);
      await new Promise((resolve) => setTimeout(resolve, QUEUED_POLL_MS));
      view = await getJSON(url);
    }
  } catch (e) {
    document.title = 'Execution not found — Ripcord';
    replace(root, h('section', { class: 'panel notice', 'data-testid': 'load-error' },
      h('h1', {}, e instanceof ApiError && e.status === 404 ? 'Execution not found' : 'Could not load the execution'),
      h('p', {}, e.message),
      h('p', {}, h('a', { href: '/' }, '← All executions'))));
    return;
  }
  const page = new ExecutionPage(root, executionId);
  page.setView(view, null);
  const live = new LiveExecution(executionId, {
    onView: (v, changed) => page.setView(v, changed),
    onState: (state) => page.setConnection(state),
  });
  live.start(view);
  // A clean-up or a retry requested from this page changes a settled
  // execution again: follow it anew.
  page.follow = () => {
    live.stop();
    live.settled = false;
    live.start(page.view);
  };
  window.addEventListener('pagehide', () => live.stop());
}

const QUEUED_POLL_MS = 1000;

/** A start that is queued, not yet started: when, by whom, what to check. */
function showQueued(root, view) {
  document.title = `${view.planName} (queued) — Ripcord`;
  replace(root, h('section', { class: 'panel notice', 'data-testid': 'queued' },
    h('h1', {}, `${view.planName}: queued, not yet started`),
    h('p', {}, badge('QUEUED'), ' submitted ', timeEl(view.submittedAt), ` by ${view.requestedBy} (${view.mode})`),
    h('p', {}, view.whatToCheck),
    h('p', {}, 'This page follows the execution as soon as a launch worker creates it.'),
    h('p', {}, h('a', { href: '/' }, '← All executions'))));
}

class ExecutionPage {
  constructor(root, executionId) {
    this.executionId = executionId;
    this.view = null;
    this.connection = 'connecting';
    this.banner = document.getElementById('connection-banner');

    this.waves = new WaveTimeline({
      onApprove: (wave) => this.approve(wave),
      onOperate: (kind, wave) => this.operate(kind, wave),
      onShowWave: (n) => {
        this.table.setFilter({ wave: String(n), status: '', health: '', text: '' });
        this.table.el.scrollIntoView({ behavior: 'smooth', block: 'start' });
      },
    });
    const showServer = (row) => this.showServer(row);
    this.table = new ServerTable({ onShowServer: showServer, onFilter: () => this.refreshGantt() });
    this.gantt = new Gantt({ onShowServer: showServer });
    this.preflight = new PreflightPanel();

    this.title = h('h1', { id: 'exec-title', 'data-testid': 'plan-name' });
    this.mode = h('span', { class: 'mode-pill', 'data-testid': 'execution-mode' });
    this.idLine = h('p', { class: 'id-line' });
    this.status = h('div', { class: 'big-status', id: 'execution-status', 'data-testid': 'execution-status' });
    this.percent = h('span', { class: 'percent', id: 'execution-percent', 'data-testid': 'execution-percent' });
    this.progressBar = h('div', { class: 'progress-fill' });
    this.progress = h('div', {
      class: 'progress', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-label': 'Percent complete',
    }, this.progressBar);
    this.counts = h('dl', { class: 'counts' });
    this.times = h('dl', { class: 'times' });
    this.reason = h('p', { class: 'exec-reason', role: 'alert', 'data-testid': 'execution-reason', hidden: true });
    this.livePill = h('span', { class: 'live-pill', 'data-testid': 'live-state', role: 'status' });
    this.cancelButton = h('button', {
      type: 'button', class: 'btn btn-danger', id: 'cancel-button', 'data-testid': 'cancel-button',
      onclick: () => this.cancel(),
    }, 'Cancel execution');
    this.cleanup = new CleanupControl({
      user: rememberedUser, remember: rememberUser, onRequested: () => this.follow?.(),
    });
    this.pauseButton = h('button', {
      type: 'button', class: 'btn', id: 'pause-button', 'data-testid': 'pause-button',
      onclick: () => this.operate(this.view.paused ? 'resume' : 'pause'),
    }, 'Pause');
    this.pausedNote = h('div', { 'data-testid': 'paused' });
    // The drill report (measured RTO against the plan's target), as the
    // API renders it; provisional until the execution settles.
    this.reportLink = h('a', {
      class: 'btn', 'data-testid': 'report-link', target: '_blank', rel: 'noopener',
      href: `/api/executions/${encodeURIComponent(executionId)}/report`,
    }, 'Drill report');

    const legend = h('ul', { class: 'legend', 'aria-label': 'Timeline legend' },
      [['ok', '✓ completed'], ['launched', '▲ launched'], ['running', '◐ running'], ['actions', '◑ post-actions'],
        ['failed', '✕ failed (hatched)'], ['warn', '⊘ cancelled / timeout'], ['pending', '○ pending']]
        .map(([t, label]) => h('li', {}, h('span', { class: `swatch tone-${t}`, 'aria-hidden': 'true' }), label)),
      h('li', {}, h('span', { class: 'swatch-dash', 'aria-hidden': 'true' }), 'time to healthy'));

    replace(root,
      h('section', { class: 'summary panel', 'aria-labelledby': 'exec-title' },
        h('div', { class: 'summary-top' },
          h('div', { class: 'summary-id' },
            h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '/' }, 'Executions'), ' / '),
            h('div', { class: 'title-line' }, this.title, this.mode),
            this.idLine),
          h('div', { class: 'summary-actions' }, this.livePill, this.reportLink, this.pauseButton, this.cancelButton, this.cleanup.button)),
        h('div', { class: 'summary-grid' },
          h('div', { class: 'stat stat-status', 'aria-live': 'polite' }, h('span', { class: 'stat-label' }, 'Status'), this.status),
          h('div', { class: 'stat stat-progress' },
            h('span', { class: 'stat-label' }, 'Complete'),
            h('div', { class: 'percent-line' }, this.percent, this.progress)),
          h('div', { class: 'stat' }, this.counts),
          h('div', { class: 'stat' }, this.times)),
        this.reason, this.pausedNote, this.cleanup.line),
      this.preflight.el,
      h('div', { class: 'layout' },
        h('section', { class: 'panel waves-panel', 'aria-labelledby': 'waves-title' },
          h('h2', { id: 'waves-title' }, 'Waves'),
          this.wavesScroll = h('div', { class: 'waves-scroll' }, this.waves.el)),
        h('section', { class: 'panel timeline-panel', 'aria-labelledby': 'timeline-title' },
          h('h2', { id: 'timeline-title' }, 'Timeline'),
          this.gantt.el, legend)),
      h('section', { class: 'panel servers-panel', 'aria-labelledby': 'servers-title' },
        h('h2', { id: 'servers-title' }, 'Servers'),
        this.table.el));

    this.ticker = setInterval(() => this.tick(), 1000);
  }

  // The view and the connection state are drawn together, in one animation
  // frame: the last update and `settled` arrive together, and drawn apart
  // the page showed "Final state" beside the previous status for a frame.
  /** An operator command from this page; once sent, the page follows the
   * execution anew (a retry reopens a settled one). */
  async operate(kind, wave = null) {
    if (await operate(this.executionId, kind, wave)) this.follow?.();
  }

  setView(view) {
    this.view = view;
    this.viewChanged = true;
    this.receivedAt = new Date();
    clock.sync(view.lastUpdated, TERMINAL_EXECUTION.has(view.status) ? view.endTime : null);
    this.schedule();
  }

  setConnection(state) {
    this.connection = state;
    this.schedule();
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = null;
      if (this.viewChanged) {
        this.viewChanged = false;
        this.render();
      }
      this.renderConnection();
    });
  }

  get terminal() {
    return TERMINAL_EXECUTION.has(this.view.status);
  }

  render() {
    const v = this.view;
    document.title = `${v.status} · ${v.planName} — Ripcord`;
    this.title.textContent = v.planName;
    const recovery = v.mode === 'recovery';
    this.mode.textContent = recovery ? 'RECOVERY' : 'DRILL';
    this.mode.classList.toggle('mode-recovery', recovery);
    replace(this.idLine,
      h('span', { class: 'mono', 'data-testid': 'execution-id' }, v.executionId),
      v.region ? h('span', {}, ` · ${v.region}`) : null,
      h('span', {}, ` · requested by ${v.requestedBy}`));

    replace(this.status, badge(v.status, { class: 'badge-large', 'data-status': v.status }));
    this.status.dataset.status = v.status;
    const p = v.progress;
    const pct = Number(p.percentComplete) || 0;
    this.percent.textContent = `${pct.toFixed(pct % 1 ? 1 : 0)}%`;
    this.progress.setAttribute('aria-valuenow', String(pct));
    this.progressBar.style.width = `${Math.min(100, pct)}%`;
    this.progressBar.className = `progress-fill tone-${v.status === 'FAILED' ? 'failed' : v.status === 'COMPLETED' ? 'ok' : 'running'}`;

    replace(this.counts,
      count('Servers', p.totalServers, 'progress-total'),
      count('Launched', p.launchedServers, 'progress-launched'),
      count('Completed', p.completedServers, 'progress-completed'),
      count('Failed', p.failedServers, 'progress-failed', p.failedServers > 0 ? () => this.showFailed() : null));

    const start = parseTime(v.startTime);
    const end = parseTime(v.endTime);
    const items = [['Started', timeEl(v.startTime)]];
    if (end !== null) {
      items.push(['Ended', timeEl(v.endTime)]);
      items.push(['Duration', h('span', { 'data-testid': 'execution-duration' }, formatDuration(end - start))]);
    } else {
      items.push(['Elapsed', h('span', { 'data-testid': 'execution-duration', 'data-tick-start': String(start) }, formatDuration(clock.now() - start))]);
      const eta = parseTime(v.estimatedCompletion);
      items.push(['ETA', eta !== null
        ? h('span', { 'data-testid': 'execution-eta' }, timeEl(v.estimatedCompletion),
          h('span', { class: 'muted sub', 'data-tick-eta': String(eta) }, formatRelative(eta, clock.now())))
        : h('span', { class: 'muted', 'data-testid': 'execution-eta' }, 'not yet known')]);
    }
    replace(this.times, items.map(([k, val]) => h('div', {}, h('dt', {}, k), h('dd', {}, val))));

    this.reason.hidden = !v.reason;
    this.reason.textContent = v.reason || '';
    this.cancelButton.hidden = this.terminal;
    this.cleanup.setView(v);
    this.pauseButton.hidden = this.terminal;
    this.pauseButton.textContent = v.paused ? 'Resume' : 'Pause';
    this.pauseButton.dataset.paused = v.paused ? 'true' : 'false';
    replace(this.pausedNote, pausedNote(v));
    this.preflight.setView(v);

    this.waves.setView(v, !this.terminal);
    if (!this.scrolledToCurrent) {
      // Once: bring the first unfinished wave into view (40 waves do not fit).
      this.scrolledToCurrent = true;
      const current = v.waves.find((w) => w.status !== 'COMPLETED');
      const el = current && document.getElementById(`wave-${current.waveNumber}`);
      if (el && current.waveNumber > 1) {
        this.wavesScroll.scrollTop = el.offsetTop - 8;
        this.pendingGanttWave = current.waveNumber;
      }
    }
    this.rows = [];
    for (const wave of v.waves) for (const server of wave.servers) this.rows.push({ wave, server });
    this.table.now = clock.now();
    this.table.setView(v, this.rows);
    this.refreshGantt();
    if (this.pendingGanttWave) {
      this.gantt.scrollToWave(this.pendingGanttWave);
      this.pendingGanttWave = null;
    }
    this.tick();
  }

  showFailed() {
    this.table.setFilter({ status: 'FAILED', health: '', wave: '', text: '' });
    this.table.el.scrollIntoView({ behavior: 'smooth', block: 'start' });
  }

  refreshGantt() {
    if (!this.view) return;
    const f = this.table.filters;
    const filtered = Boolean(f.status || f.health || f.wave || f.text.trim());
    this.gantt.setData(this.view, this.table.rows, filtered, clock.now(), !this.terminal);
  }

  tick() {
    const now = clock.now();
    for (const el of document.querySelectorAll('[data-tick-start]')) {
      el.textContent = `${el.dataset.tickPrefix || ''}${formatDuration(now - Number(el.dataset.tickStart))}`;
    }
    for (const el of document.querySelectorAll('[data-tick-eta]')) {
      el.textContent = formatRelative(Number(el.dataset.tickEta), now);
    }
    this.table.tick(now);
    this.gantt.tick(now);
  }

  renderConnection() {
    const state = this.connection;
    if (state === this.drawnConnection) return;
    this.drawnConnection = state;
    const labels = {
      connecting: ['Connecting…', 'connecting'],
      live: ['● Live', 'live'],
      reconnecting: ['Reconnecting…', 'reconnecting'],
      settled: ['Final state', 'settled'],
    };
    const [label, cls] = labels[state];
    this.livePill.textContent = label;
    this.livePill.className = `live-pill live-${cls}`;
    this.livePill.dataset.state = state;
    this.banner.dataset.state = state;
    this.banner.hidden = state !== 'reconnecting';
    if (state === 'reconnecting' && this.view) {
      this.bannerTime.textContent = `Showing the state received at ${this.receivedAt.toLocaleTimeString()}.`;
    }
  }

  get bannerTime() {
    return this.banner.querySelector('.banner-detail');
  }

  async cancel() {
    const v = this.view;
    const done = await formDialog({
      title: 'Cancel this execution?',
      intro: `${v.planName} (${v.executionId}): no new wave will start. Launches already running are observed to their end, so every server's status stays true.`,
      fields: [
        { name: 'reason', label: 'Reason', required: true, placeholder: 'e.g. drill window over' },
        { name: 'requestedBy', label: 'Your name', required: true, value: rememberedUser(), autocomplete: 'name' },
        { name: 'token', label: 'API token', type: 'password', required: true, value: storedToken(), hint: 'Kept for this browser tab only.' },
      ],
      confirmLabel: 'Cancel execution',
      danger: true,
      testid: 'cancel-dialog',
      onSubmit: async ({ reason, requestedBy, token }) => {
        rememberUser(requestedBy);
        await postJSON(`/api/executions/${encodeURIComponent(v.executionId)}/cancel`,
          { reason: reason.trim(), requestedBy: requestedBy.trim() }, token.trim());
      },
    });
    if (done) toast('Cancellation requested. Running launches finish first.');
  }

  async approve(wave) {
    const done = await formDialog({
      title: `Approve wave ${wave.waveNumber}?`,
      intro: `Wave ${wave.waveNumber} (${wave.name}) launches its ${wave.servers.length} server${wave.servers.length === 1 ? '' : 's'} as soon as you approve.`,
      fields: [
        { name: 'approvedBy', label: 'Your name', required: true, value: rememberedUser(), autocomplete: 'name' },
        { name: 'token', label: 'API token', type: 'password', required: true, value: storedToken(), hint: 'Kept for this browser tab only.' },
      ],
      confirmLabel: `Approve wave ${wave.waveNumber}`,
      testid: 'approve-dialog',
      onSubmit: async ({ approvedBy, token }) => {
        rememberUser(approvedBy);
        await postJSON(`/api/executions/${encodeURIComponent(this.executionId)}/waves/${wave.waveNumber}/approve`,
          { approvedBy: approvedBy.trim() }, token.trim());
      },
    });
    if (done) toast(`Wave ${wave.waveNumber} approved.`);
  }

  showServer({ wave, server: s }) {
    const region = regionOf(this.view, s);
    const start = parseTime(s.launchStartTime);
    const end = parseTime(s.launchEndTime);
    const healthy = parseTime(s.healthyTime);
    const rows = [
      ['Wave', `${wave.waveNumber} · ${wave.name}`],
      ['Source server', h('span', { class: 'mono' }, s.sourceServerId)],
      ['Critical', s.critical ? 'yes' : 'no (optional: its failure does not fail the wave)'],
      ['Launch status', badge(s.launchStatus)],
      ['Health', badge(s.healthStatus)],
      ['Instance', s.launchedInstanceId
        ? (region ? h('a', { href: consoleUrl(region, s.launchedInstanceId), target: '_blank', rel: 'noopener noreferrer', class: 'mono' }, `${s.launchedInstanceId} ↗`) : h('span', { class: 'mono' }, s.launchedInstanceId))
        : null],
      ['Instance type', s.instanceType],
      ['Availability zone', s.availabilityZone],
      ['Private IP', s.privateIpAddress && h('span', { class: 'mono' }, s.privateIpAddress)],
      ['Public IP', s.publicIpAddress && h('span', { class: 'mono' }, s.publicIpAddress)],
      ['Recovery instance', s.recoveryInstanceId && h('span', { class: 'mono' }, s.recoveryInstanceId)],
      ['DRS job', s.recoveryJobId && h('span', { class: 'mono' }, s.recoveryJobId)],
      ['Point-in-time snapshot', s.pointInTimeSnapshot && timeEl(s.pointInTimeSnapshot)],
      ['Launch started', start !== null && timeEl(s.launchStartTime)],
      ['Launch ended', end !== null && h('span', {}, timeEl(s.launchEndTime), ` (${formatDuration(end - start)})`)],
      ['Healthy at', healthy !== null && h('span', {}, timeEl(s.healthyTime), start !== null ? ` (${formatDuration(healthy - start)} after launch start)` : '')],
      ['Error code', s.errorCode && h('span', { class: 'mono' }, s.errorCode)],
    ].filter(([, value]) => value);
    detailsDialog(s.hostname, h('div', {},
      h('dl', { class: 'details' }, rows.map(([k, val]) => h('div', {}, h('dt', {}, k), h('dd', {}, val)))),
      s.errorMessage ? h('div', { class: 'error-block' },
        h('h3', {}, 'Error'),
        h('pre', { class: 'output error-text', 'data-testid': 'server-error-full' }, s.errorMessage)) : null),
    'server-dialog');
  }
}

/** One count; `onShow` (failures) makes it a button that lists those servers. */
function count(label, value, testid, onShow = null) {
  const text = value.toLocaleString();
  return h('div', { class: onShow ? 'count count-alert' : 'count' },
    h('dt', {}, label),
    h('dd', { 'data-testid': testid, id: testid },
      onShow ? h('button', { type: 'button', class: 'linklike', title: 'Show the failed servers', onclick: onShow }, text) : text));
}
