// The Gantt timeline: one row per wave, per server (launchStartTime →
// launchEndTime, then a dashed tail to healthyTime) and per post-launch
// action, drawn on a canvas. Only the rows in view are drawn, so scrolling
// 4,000 servers costs the same as scrolling 20. A transparent scroller over
// the canvas provides native scrolling; the canvas redraws at its offset.
// The canvas is a picture (role=img): the server table below carries the
// same facts for assistive technology.

import { h } from './dom.js';
import { formatDuration, formatShortClock, parseTime, utcTitle, formatClock } from './format.js';

const ROW_H = 20;
const AXIS_H = 28;
const LABEL_W = 210;
const TONE_OF = {
  PENDING: 'pending', WAITING: 'pending', LAUNCHING: 'running', RUNNING: 'running', LAUNCHED: 'launched',
  POST_ACTIONS: 'actions', COMPLETED: 'ok', SUCCESS: 'ok', FAILED: 'failed',
  CANCELLED: 'warn', TIMEOUT: 'warn',
};

export class Gantt {
  constructor({ onShowServer }) {
    this.onShowServer = onShowServer;
    this.rows = [];
    this.range = [0, 1];
    this.now = Date.now();
    this.live = true;
    this.canvas = h('canvas', { class: 'gantt-canvas', role: 'img', 'aria-label': 'Timeline of server launches and actions' });
    this.spacer = h('div', { class: 'gantt-spacer' });
    this.scroller = h('div', { class: 'gantt-scroll', 'data-testid': 'gantt', tabindex: 0, 'aria-label': 'Timeline, scrollable' }, this.spacer);
    this.tooltip = h('div', { class: 'gantt-tooltip', role: 'tooltip', hidden: true });
    this.el = h('div', { class: 'gantt', id: 'gantt' }, this.canvas, this.scroller, this.tooltip);
    this.scroller.addEventListener('scroll', () => this.schedule());
    this.scroller.addEventListener('mousemove', (e) => this.hover(e));
    this.scroller.addEventListener('mouseleave', () => { this.tooltip.hidden = true; this.hoverIndex = -1; this.schedule(); });
    this.scroller.addEventListener('click', (e) => {
      const row = this.rowAt(e);
      if (row && row.kind === 'server') this.onShowServer({ wave: row.wave, server: row.server });
    });
    new ResizeObserver(() => this.schedule()).observe(this.el);
    this.hoverIndex = -1;
  }

  /** The view and the server rows to show (already filtered), grouped by wave. */
  setData(view, serverRows, filtered, now, live) {
    this.now = now;
    this.live = live;
    const byWave = new Map();
    for (const row of serverRows) {
      if (!byWave.has(row.wave.waveNumber)) byWave.set(row.wave.waveNumber, []);
      byWave.get(row.wave.waveNumber).push(row);
    }
    const rows = [];
    for (const wave of view.waves) {
      const servers = byWave.get(wave.waveNumber) || [];
      if (filtered && servers.length === 0) continue;
      rows.push({ kind: 'wave', wave });
      for (const s of servers) rows.push({ kind: 'server', wave, server: s.server });
      for (const action of wave.postActions || []) rows.push({ kind: 'action', wave, action });
    }
    this.rows = rows;
    if (!filtered) {
      // Tall enough for a small drill without scrolling, capped for big ones.
      const want = Math.max(280, Math.min(520, AXIS_H + rows.length * ROW_H + 6));
      if (want !== this.height) {
        this.height = want;
        this.el.style.height = `${want}px`;
      }
    }
    this.spacer.style.height = `${AXIS_H + rows.length * ROW_H + 4}px`;

    let lo = parseTime(view.startTime) ?? now;
    let hi = parseTime(view.endTime) ?? now;
    const eta = parseTime(view.estimatedCompletion);
    this.eta = live && eta !== null && eta > now ? eta : null;
    if (filtered) {
      // Zoom to what the filter shows.
      const spans = rows.filter((r) => r.kind !== 'wave').map(describe).filter(([, , start]) => start !== null);
      if (spans.length) {
        lo = Math.min(...spans.map(([, , start]) => start));
        hi = Math.max(...spans.map(([, , , end]) => end ?? now));
      }
    } else {
      for (const wave of view.waves) {
        hi = Math.max(hi, parseTime(wave.endTime) ?? hi);
        lo = Math.min(lo, parseTime(wave.startTime) ?? lo);
      }
      if (this.eta !== null) hi = Math.max(hi, this.eta);
    }
    if (hi - lo < 60000) hi = lo + 60000;
    this.range = [lo, hi + (hi - lo) * 0.02];
    this.canvas.setAttribute('aria-label',
      `Timeline of ${serverRows.length} server launches across ${view.waves.length} waves, from ${formatClock(lo)} to ${formatClock(hi)}`);
    this.schedule();
  }

  /** Scrolls so that wave `n`'s row is at the top. */
  scrollToWave(n) {
    const index = this.rows.findIndex((r) => r.kind === 'wave' && r.wave.waveNumber === n);
    if (index >= 0) this.scroller.scrollTop = index * ROW_H;
  }

  tick(now) {
    this.now = now;
    if (this.live) this.schedule();
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = null;
      this.draw();
    });
  }

  x(ms, width) {
    const [lo, hi] = this.range;
    return LABEL_W + ((ms - lo) / (hi - lo)) * (width - LABEL_W - 12);
  }

  rowAt(event) {
    const rect = this.scroller.getBoundingClientRect();
    const y = event.clientY - rect.top + this.scroller.scrollTop - AXIS_H;
    if (event.clientY - rect.top < AXIS_H || y < 0) return null;
    return this.rows[Math.floor(y / ROW_H)] || null;
  }

  hover(event) {
    const row = this.rowAt(event);
    const index = row ? this.rows.indexOf(row) : -1;
    if (index !== this.hoverIndex) {
      this.hoverIndex = index;
      this.schedule();
    }
    if (!row) {
      this.tooltip.hidden = true;
      return;
    }
    const [title, status, start, end] = describe(row);
    const lines = [title, status];
    if (start !== null) lines.push(`Start ${formatClock(start)} (${utcTitle(start)})`);
    if (end !== null) lines.push(`End ${formatClock(end)} · ${formatDuration(end - start)}`);
    else if (start !== null) lines.push(`Running for ${formatDuration(this.now - start)}`);
    if (row.kind === 'server' && row.server.errorMessage) lines.push(`Error: ${truncate(row.server.errorMessage, 160)}`);
    if (row.kind === 'server') lines.push('Click for details');
    this.tooltip.replaceChildren(...lines.map((l, i) => h('div', { class: i === 0 ? 'tt-title' : '' }, l)));
    this.tooltip.hidden = false;
    const rect = this.el.getBoundingClientRect();
    const left = Math.min(event.clientX - rect.left + 14, rect.width - 300);
    this.tooltip.style.left = `${Math.max(0, left)}px`;
    this.tooltip.style.top = `${event.clientY - rect.top + 16}px`;
  }

  draw() {
    const width = this.scroller.clientWidth;
    const height = this.el.clientHeight;
    if (!width || !height) return;
    const dpr = window.devicePixelRatio || 1;
    if (this.canvas.width !== Math.round(width * dpr) || this.canvas.height !== Math.round(height * dpr)) {
      this.canvas.width = Math.round(width * dpr);
      this.canvas.height = Math.round(height * dpr);
      this.canvas.style.width = `${width}px`;
      this.canvas.style.height = `${height}px`;
    }
    const css = getComputedStyle(this.el);
    const color = (name) => css.getPropertyValue(`--${name}`).trim() || '#888';
    const ctx = this.canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    ctx.font = '12px system-ui, sans-serif';
    ctx.textBaseline = 'middle';

    // Vertical grid at round intervals.
    const [lo, hi] = this.range;
    const step = tickStep((hi - lo) / Math.max(1, (width - LABEL_W) / 90));
    const ticks = [];
    for (let t = Math.ceil(lo / step) * step; t <= hi; t += step) ticks.push(t);
    ctx.strokeStyle = color('grid');
    ctx.lineWidth = 1;
    for (const t of ticks) {
      const x = Math.round(this.x(t, width)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(x, AXIS_H);
      ctx.lineTo(x, height);
      ctx.stroke();
    }

    // Rows in view.
    const top = this.scroller.scrollTop;
    const first = Math.max(0, Math.floor(top / ROW_H));
    const last = Math.min(this.rows.length, Math.ceil((top + height - AXIS_H) / ROW_H) + 1);
    ctx.save();
    ctx.beginPath();
    ctx.rect(0, AXIS_H, width, height - AXIS_H);
    ctx.clip();
    for (let i = first; i < last; i++) {
      const row = this.rows[i];
      const y = AXIS_H + i * ROW_H - top;
      if (row.kind === 'wave') {
        ctx.fillStyle = color('gantt-wave-bg');
        ctx.fillRect(0, y, width, ROW_H);
      }
      if (i === this.hoverIndex) {
        ctx.fillStyle = color('gantt-hover');
        ctx.fillRect(0, y, width, ROW_H);
      }
      this.drawRow(ctx, row, y, width, color);
    }
    ctx.restore();

    // Label column separator, axis on top.
    ctx.fillStyle = color('panel');
    ctx.fillRect(0, 0, width, AXIS_H);
    ctx.strokeStyle = color('border');
    ctx.beginPath();
    ctx.moveTo(LABEL_W - 6.5, 0);
    ctx.lineTo(LABEL_W - 6.5, height);
    ctx.moveTo(0, AXIS_H - 0.5);
    ctx.lineTo(width, AXIS_H - 0.5);
    ctx.stroke();
    ctx.fillStyle = color('muted');
    ctx.textAlign = 'left';
    ctx.fillText('Wave / server / action', 8, AXIS_H / 2);
    ctx.textAlign = 'center';
    const markers = [this.live ? this.now : null, this.eta].filter((m) => m !== null).map((m) => this.x(m, width));
    for (const t of ticks) {
      const x = this.x(t, width);
      const clash = markers.some((m) => Math.abs(m - x) < 44);
      if (x > LABEL_W + 20 && x < width - 20 && !clash) ctx.fillText(formatShortClock(t, step < 60000), x, AXIS_H / 2);
    }
    if (this.live) this.marker(ctx, this.now, 'now', color('text'), width, height, [4, 3]);
    if (this.eta !== null) this.marker(ctx, this.eta, 'ETA', color('muted'), width, height, [2, 4]);
  }

  marker(ctx, ms, label, stroke, width, height, dash) {
    const x = Math.round(this.x(ms, width)) + 0.5;
    if (x < LABEL_W || x > width) return;
    ctx.save();
    ctx.strokeStyle = stroke;
    ctx.setLineDash(dash);
    ctx.beginPath();
    ctx.moveTo(x, AXIS_H - 6);
    ctx.lineTo(x, height);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = stroke;
    ctx.textAlign = x > width - 40 ? 'right' : 'left';
    ctx.font = 'bold 11px system-ui, sans-serif';
    ctx.fillText(label, x + (x > width - 40 ? -4 : 4), AXIS_H - 8);
    ctx.restore();
  }

  drawRow(ctx, row, y, width, color) {
    const [title, status, start, end] = describe(row);
    const mid = y + ROW_H / 2;
    ctx.textAlign = 'left';
    ctx.font = row.kind === 'wave' ? 'bold 12px system-ui, sans-serif' : '12px system-ui, sans-serif';
    ctx.fillStyle = row.kind === 'action' ? color('muted') : color('text');
    const indent = row.kind === 'wave' ? 8 : 20;
    ctx.fillText(fit(ctx, row.kind === 'action' ? `↳ ${title}` : title, LABEL_W - indent - 14), indent, mid);
    if (start === null) return;
    const x0 = this.x(start, width);
    const x1 = Math.max(x0 + 2, this.x(end ?? this.now, width));
    const tone = color(`tone-${TONE_OF[status] || 'pending'}`);
    if (row.kind === 'wave') {
      ctx.fillStyle = tone;
      ctx.globalAlpha = 0.35;
      ctx.fillRect(x0, y + 3, x1 - x0, ROW_H - 6);
      ctx.globalAlpha = 1;
      ctx.fillRect(x0, y + ROW_H - 5, x1 - x0, 2);
      return;
    }
    const barY = y + 4;
    const barH = ROW_H - 8;
    // Time to healthy: a dashed tail after the launch.
    const healthy = row.kind === 'server' ? parseTime(row.server.healthyTime) : null;
    if (healthy !== null && end !== null && healthy > end) {
      ctx.save();
      ctx.strokeStyle = color('tone-ok');
      ctx.setLineDash([3, 2]);
      ctx.beginPath();
      ctx.moveTo(x1, mid);
      ctx.lineTo(this.x(healthy, width), mid);
      ctx.stroke();
      ctx.restore();
    }
    ctx.fillStyle = tone;
    ctx.fillRect(x0, barY, x1 - x0, barH);
    if (status === 'FAILED' || status === 'TIMEOUT') {
      // Hatched, so failure does not rely on colour alone.
      ctx.save();
      ctx.beginPath();
      ctx.rect(x0, barY, x1 - x0, barH);
      ctx.clip();
      ctx.strokeStyle = 'rgba(0,0,0,0.55)';
      ctx.lineWidth = 2;
      for (let hx = x0 - barH; hx < x1; hx += 6) {
        ctx.beginPath();
        ctx.moveTo(hx, barY + barH);
        ctx.lineTo(hx + barH, barY);
        ctx.stroke();
      }
      ctx.restore();
      ctx.fillStyle = color('tone-failed');
      ctx.font = 'bold 12px system-ui, sans-serif';
      ctx.fillText('✕', x1 + 4, mid);
    } else if (end === null) {
      // Still running: an open, lighter end.
      ctx.fillStyle = 'rgba(255,255,255,0.35)';
      ctx.fillRect(Math.max(x0, x1 - 4), barY, Math.min(4, x1 - x0), barH);
    }
  }
}

function describe(row) {
  if (row.kind === 'wave') {
    const w = row.wave;
    return [`Wave ${w.waveNumber} · ${w.name}`, w.awaitingApproval ? 'AWAITING APPROVAL' : w.status,
      parseTime(w.startTime), parseTime(w.endTime)];
  }
  if (row.kind === 'server') {
    const s = row.server;
    return [s.hostname, s.launchStatus, parseTime(s.launchStartTime), parseTime(s.launchEndTime)];
  }
  const a = row.action;
  return [a.name, a.status, parseTime(a.startTime), parseTime(a.endTime)];
}

function truncate(text, n) {
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}

function fit(ctx, text, max) {
  if (ctx.measureText(text).width <= max) return text;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (ctx.measureText(`${text.slice(0, mid)}…`).width <= max) lo = mid;
    else hi = mid - 1;
  }
  return `${text.slice(0, lo)}…`;
}

const STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400]
  .map((s) => s * 1000);
function tickStep(approx) {
  return STEPS.find((s) => s >= approx) || STEPS[STEPS.length - 1];
}
