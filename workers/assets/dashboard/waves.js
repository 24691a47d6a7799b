// The waves as a vertical timeline: status, duration (ticking while the
// wave runs), server counts, the approval gate with its Approve button, and
// each post-launch action with its output on demand. Waves are rendered by
// identity: a wave object the live stream did not replace keeps its DOM (and
// so its open/closed details).

import { badge, h, tone } from './dom.js';
import { formatDuration, parseTime, timeEl } from './format.js';
import { waveButtons } from './operator.js';

export class WaveTimeline {
  constructor({ onApprove, onOperate, onShowWave }) {
    this.onApprove = onApprove;
    this.onOperate = onOperate;
    this.onShowWave = onShowWave;
    this.items = new Map(); // waveNumber -> { wave, el, canApprove }
    this.el = h('ol', { class: 'waves', id: 'waves', 'data-testid': 'waves', 'aria-label': 'Waves' });
  }

  setView(view, canApprove) {
    // Retry and Skip apply while the execution failed or runs.
    const canOperate = view.status === 'FAILED' || view.status === 'IN_PROGRESS';
    if (canOperate !== this.canOperate) {
      for (const item of this.items.values()) item.el.remove();
      this.items.clear();
    }
    this.canOperate = canOperate;
    const seen = new Set();
    let previous = null;
    for (const wave of view.waves) {
      seen.add(wave.waveNumber);
      let item = this.items.get(wave.waveNumber);
      if (!item || item.wave !== wave || item.canApprove !== canApprove) {
        const el = this.renderWave(wave, canApprove, item?.el);
        if (item) item.el.replaceWith(el);
        item = { wave, el, canApprove };
        this.items.set(wave.waveNumber, item);
      }
      const expectedPrev = previous ? previous.nextSibling : this.el.firstChild;
      if (item.el !== expectedPrev || !item.el.parentNode) this.el.insertBefore(item.el, expectedPrev);
      previous = item.el;
    }
    for (const [n, item] of this.items) {
      if (!seen.has(n)) {
        item.el.remove();
        this.items.delete(n);
      }
    }
  }

  renderWave(wave, canApprove, old) {
    const open = new Set(old ? [...old.querySelectorAll('details[open]')].map((d) => d.dataset.key) : []);
    const gate = wave.awaitingApproval;
    const shownStatus = gate ? 'AWAITING_APPROVAL' : wave.status;
    const counts = countServers(wave.servers);
    const start = parseTime(wave.startTime);
    const end = parseTime(wave.endTime);

    let duration;
    if (start !== null && end !== null) duration = h('span', { 'data-testid': 'wave-duration' }, `took ${formatDuration(end - start)}`);
    else if (start !== null) {
      duration = h('span', { 'data-testid': 'wave-duration', 'data-tick-start': String(start), 'data-tick-prefix': 'running ' }, 'running …');
    } else duration = h('span', { class: 'muted', 'data-testid': 'wave-duration' }, gate ? 'waiting for approval' : 'not started');

    const bar = h('div', { class: 'wave-bar', 'aria-hidden': 'true' },
      segment('ok', counts.done, counts.total),
      segment('launched', counts.launched, counts.total),
      segment('running', counts.launching, counts.total),
      segment('failed', counts.failed, counts.total));

    const actions = (wave.postActions || []).map((a) => renderAction(wave, a, open));
    return h('li', {
      class: `wave tone-${tone(shownStatus)}`, id: `wave-${wave.waveNumber}`, 'data-testid': 'wave-row',
      'data-wave-number': wave.waveNumber, 'data-status': wave.status,
      'data-awaiting-approval': gate ? 'true' : 'false',
    },
    h('span', { class: 'wave-marker', 'aria-hidden': 'true' }),
    h('div', { class: 'wave-body' },
      h('div', { class: 'wave-head' },
        h('h3', { class: 'wave-title' },
          h('span', { class: 'wave-number' }, `Wave ${wave.waveNumber}`), ' ',
          h('span', { class: 'wave-name' }, wave.name)),
        badge(shownStatus, { 'data-testid': 'wave-status', 'data-status': wave.status })),
      h('div', { class: 'wave-meta' },
        duration,
        start !== null ? h('span', {}, timeEl(wave.startTime), end !== null ? [' → ', timeEl(wave.endTime)] : null) : null,
        wave.dependsOn && wave.dependsOn.length ? h('span', { class: 'muted' }, `after ${wave.dependsOn.map((d) => `wave ${d}`).join(', ')}`) : null,
        wave.attempt > 1 ? h('span', { class: 'muted', 'data-testid': 'wave-attempt' }, `attempt ${wave.attempt}`) : null),
      h('div', { class: 'wave-counts' },
        bar,
        h('button', {
          type: 'button', class: 'linklike', title: 'Show these servers in the table',
          onclick: () => this.onShowWave(wave.waveNumber),
        }, `${counts.launched + counts.done}/${counts.total} launched`),
        counts.failed ? h('span', { class: 'count-failed' }, `✕ ${counts.failed} failed`) : null),
      wave.reason ? h('p', { class: 'wave-reason', role: 'note' }, wave.reason) : null,
      wave.waitingReason ? h('p', { class: 'wave-reason', role: 'status' }, wave.waitingReason) : null,
      wave.approvedBy ? h('p', { class: 'muted small' }, `Approved by ${wave.approvedBy}`) : null,
      gate ? h('div', { class: 'gate' },
        h('span', {}, 'This wave waits for a person to approve it.'),
        h('button', {
          type: 'button', class: 'btn btn-primary btn-small', 'data-testid': 'approve-button',
          id: `approve-wave-${wave.waveNumber}`, disabled: !canApprove,
          onclick: () => this.onApprove(wave),
        }, 'Approve')) : null,
      this.canOperate ? waveButtons(wave, this.onOperate) : null,
      wave.recoveryJobId ? h('p', { class: 'muted small' }, 'DRS job ', h('span', { class: 'mono' }, wave.recoveryJobId)) : null,
      actions.length ? h('ul', { class: 'actions', 'aria-label': `Actions of wave ${wave.waveNumber}` }, actions) : null));
  }
}

function renderAction(wave, a, open) {
  const start = parseTime(a.startTime);
  const end = parseTime(a.endTime);
  const key = a.actionId;
  const body = [];
  if (a.errorMessage) body.push(h('p', { class: 'error-text' }, a.errorMessage));
  if (a.output) body.push(h('pre', { class: 'output', 'data-testid': 'action-output' }, a.output));
  if (a.commandId) body.push(h('p', { class: 'muted small' }, 'SSM command ', h('span', { class: 'mono' }, a.commandId)));
  body.unshift(h('p', { class: 'muted small' }, 'SSM document ', h('span', { class: 'mono' }, a.documentName)));
  const summary = h('summary', { title: a.documentName },
    badge(a.status, { class: 'badge-quiet' }),
    h('span', { class: 'action-name' }, a.name),
    start !== null && end !== null ? h('span', { class: 'muted small action-time' }, formatDuration(end - start)) : null);
  return h('li', { class: 'action', 'data-testid': 'action-row', 'data-status': a.status },
    h('details', { 'data-key': key, open: open.has(key) }, summary, body));
}

function segment(kind, n, total) {
  if (!n) return null;
  const el = h('span', { class: `seg seg-${kind}` });
  el.style.width = `${(n / total) * 100}%`;
  return el;
}

export function countServers(servers) {
  const c = { total: servers.length, done: 0, launched: 0, launching: 0, failed: 0 };
  for (const s of servers) {
    if (s.launchStatus === 'COMPLETED') c.done++;
    else if (s.launchStatus === 'LAUNCHED') c.launched++;
    else if (s.launchStatus === 'LAUNCHING') c.launching++;
    else if (s.launchStatus === 'FAILED') c.failed++;
  }
  return c;
}
