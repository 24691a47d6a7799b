// Times and durations as people read them in an incident: local clock time
// on screen, the UTC instant on hover, durations like "3m 49s".
//
// The view's times come from the server's clock, which is not the browser's
// (and runs faster under the simulator), so anything that ticks is measured
// on the server's clock: `clock.now()` is the view's `lastUpdated` plus the
// time elapsed in the browser since that view arrived.

import { h } from './dom.js';

export function parseTime(iso) {
  if (!iso) return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
}

/** "0s", "42s", "3m 49s", "1h 02m", "2d 3h". Negative durations read as 0s. */
export function formatDuration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '—';
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const hrs = Math.floor(m / 60);
  if (hrs < 24) return `${hrs}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(hrs / 24)}d ${hrs % 24}h`;
}

const clockFormat = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit', minute: '2-digit', second: '2-digit',
});
const dateClockFormat = new Intl.DateTimeFormat(undefined, {
  month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
});
const shortClockFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

/** Local clock time; with the date when it is not today. */
export function formatClock(ms) {
  if (ms === null) return '—';
  const d = new Date(ms);
  const today = new Date();
  return d.toDateString() === today.toDateString() ? clockFormat.format(d) : dateClockFormat.format(d);
}

/** Hours and minutes; with seconds when `withSeconds` (ticks under a minute apart). */
export function formatShortClock(ms, withSeconds = false) {
  return (withSeconds ? clockFormat : shortClockFormat).format(new Date(ms));
}

export function utcTitle(ms) {
  return `${new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z')} UTC`;
}

/** A <time> element: local time shown, UTC on hover. */
export function timeEl(iso, attrs = {}) {
  const ms = parseTime(iso);
  if (ms === null) return h('span', { class: 'muted', ...attrs }, '—');
  return h('time', { datetime: iso, title: utcTitle(ms), ...attrs }, formatClock(ms));
}

/** An estimate relative to `now`: "in 12m 03s", or "overdue by 3m 10s". */
export function formatRelative(ms, now) {
  const delta = ms - now;
  return delta >= 0 ? `in ${formatDuration(delta)}` : `overdue by ${formatDuration(-delta)}`;
}

/** The server's clock as seen from the browser (see the module comment). */
export const clock = {
  serverMs: null,
  browserMs: 0,
  frozenAt: null,
  sync(lastUpdatedIso, endIso) {
    const ms = parseTime(lastUpdatedIso);
    if (ms !== null) {
      this.serverMs = ms;
      this.browserMs = performance.now();
    }
    // A terminal execution stops every clock at its end.
    this.frozenAt = parseTime(endIso);
  },
  now() {
    if (this.frozenAt !== null) return this.frozenAt;
    if (this.serverMs === null) return Date.now();
    return this.serverMs + (performance.now() - this.browserMs);
  },
};
