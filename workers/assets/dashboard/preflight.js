// The execution's pre-flight panel: what the checks found before any wave
// launched (the view's `preflight`), worst first, each finding with what to
// do. Hidden when no pre-flight ran. `preflightModel` decides what is shown
// (DOM-free, unit-tested); `PreflightPanel` draws it.

import { h, replace } from './dom.js';
import { timeEl } from './format.js';

// Each severity's tone (the colour family of dom.js), glyph and word: the
// word is always shown, so no severity is told by colour alone.
const SEVERITIES = {
  ERROR: { tone: 'failed', glyph: '✕', word: 'Error' },
  WARNING: { tone: 'warn', glyph: '⚠', word: 'Warning' },
  INFO: { tone: 'pending', glyph: 'ℹ', word: 'Note' },
};

// What each `options.preflight` mode does with the findings.
const MODES = {
  block: 'an error stops the start before any wave launches',
  warn: 'findings are recorded and the execution goes on',
  off: 'no checks run',
};

/**
 * What the panel shows for `view`, or null when no pre-flight ran:
 * { state, tone, headline, mode, modeMeaning, checkedAt, detail, open, findings: [{ severity, tone, glyph, word, check, place, message, whatToDo }] }.
 * `open`: the findings list starts unfolded (there is an error or a warning).
 */
export function preflightModel(view) {
  const p = view && view.preflight;
  if (!p) return null;
  const findings = (p.findings || []).map((f) => {
    const s = SEVERITIES[f.severity] || SEVERITIES.INFO;
    return {
      severity: f.severity,
      tone: s.tone,
      glyph: s.glyph,
      word: s.word,
      check: f.check,
      place: [f.wave ? `wave ${f.wave}` : null, f.server || null].filter(Boolean).join(' · '),
      message: f.message,
      whatToDo: f.whatToDo,
    };
  });
  const has = (severity) => findings.some((f) => f.severity === severity);
  const mode = p.mode;
  const modeMeaning = MODES[p.mode] || '';
  if (p.state === 'CHECKING') {
    const running = p.summary === 'running';
    return {
      state: p.state,
      tone: running ? 'running' : 'warn',
      headline: running ? 'Running pre-flight checks' : `Pre-flight ${p.summary}`,
      mode,
      modeMeaning,
      checkedAt: null,
      // While it runs, the execution's waiting reason says why no wave has
      // started (and, after a failed read of DRS, what to check).
      detail: running ? view.waitingReason || null : null,
      open: false,
      findings,
    };
  }
  const servers = p.serversChecked === undefined ? null
    : `${p.serversChecked} server${p.serversChecked === 1 ? '' : 's'} checked`;
  return {
    state: p.state,
    tone: has('ERROR') ? 'failed' : has('WARNING') ? 'warn' : 'ok',
    headline: p.summary.charAt(0).toUpperCase() + p.summary.slice(1),
    mode,
    modeMeaning,
    checkedAt: p.checkedAt || null,
    detail: servers,
    open: has('ERROR') || has('WARNING'),
    findings,
  };
}

export class PreflightPanel {
  constructor() {
    this.el = h('section', {
      class: 'panel preflight-panel', 'aria-labelledby': 'preflight-title', 'data-testid': 'preflight-panel', hidden: true,
    });
    this.drawn = undefined;
  }

  setView(view) {
    const model = preflightModel(view);
    // Redrawn only when it changed, so a list the reader folded stays folded.
    const key = JSON.stringify(model);
    if (key === this.drawn) return;
    this.drawn = key;
    this.el.hidden = !model;
    if (!model) {
      replace(this.el);
      return;
    }
    this.el.dataset.state = model.state;
    const heading = h('div', { class: 'preflight-head' },
      h('h2', { id: 'preflight-title' }, 'Pre-flight'),
      h('span', { class: `preflight-summary tone-${model.tone}`, 'data-testid': 'preflight-summary' }, model.headline),
      model.checkedAt ? h('span', { class: 'muted small' }, 'at ', timeEl(model.checkedAt)) : null,
      model.detail ? h('span', { class: 'muted small', 'data-testid': 'preflight-detail' }, model.detail) : null);
    const mode = h('p', { class: 'muted small', 'data-testid': 'preflight-mode' },
      'Mode ', h('span', { class: 'mono' }, model.mode), model.modeMeaning ? `: ${model.modeMeaning}` : null);
    if (!model.findings.length) {
      replace(this.el, heading, mode);
      return;
    }
    const counts = model.findings.length === 1 ? '1 finding' : `${model.findings.length} findings`;
    replace(this.el, heading, mode,
      h('details', { class: 'preflight-findings', open: model.open },
        h('summary', {}, `${counts}, worst first`),
        h('ul', { class: 'findings', 'aria-label': 'Pre-flight findings' }, model.findings.map(renderFinding))));
  }
}

function renderFinding(f) {
  return h('li', { class: `finding tone-${f.tone}`, 'data-testid': 'preflight-finding', 'data-severity': f.severity },
    h('div', { class: 'finding-head' },
      h('span', { class: 'finding-severity' }, h('span', { 'aria-hidden': 'true' }, f.glyph), ` ${f.word}`),
      h('span', { class: 'mono finding-check' }, f.check),
      f.place ? h('span', { class: 'muted mono finding-place' }, f.place) : null),
    h('p', { class: 'finding-message' }, f.message),
    h('p', { class: 'finding-todo' }, h('span', { class: 'muted' }, 'What to do: '), f.whatToDo));
}
