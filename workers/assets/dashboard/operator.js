// Operator control on the dashboard (docs/status-model.md, "Operator
// control"): Retry and Skip on a FAILED wave, Skip on a WAITING one, Pause
// and Resume on the execution. Each asks for confirmation (who, why, the
// API token) and posts to the API, which refuses what does not apply with
// the reason and what to do, shown in the dialog.

import { postJSON, storedToken } from './api.js';
import { formDialog } from './dialog.js';
import { h } from './dom.js';
import { toast } from './toast.js';

const USER_KEY = 'ripcord_user';

export function rememberedUser() {
  try {
    return localStorage.getItem(USER_KEY) || '';
  } catch {
    return '';
  }
}

export function rememberUser(name) {
  try {
    localStorage.setItem(USER_KEY, name.trim());
  } catch {
    // Not remembered.
  }
}

const COMMANDS = {
  retry: {
    title: (w) => `Retry wave ${w.waveNumber}?`,
    intro: (w) => `Wave ${w.waveNumber} (${w.name}): its failed servers launch again as attempt ${(w.attempt || 1) + 1}; servers that launched keep their state. The waves after it run once it completes.`,
    path: (w) => `waves/${w.waveNumber}/retry`,
    confirm: (w) => `Retry wave ${w.waveNumber}`,
    reasonRequired: false,
    done: (w) => `Retry of wave ${w.waveNumber} requested.`,
  },
  skip: {
    title: (w) => `Skip wave ${w.waveNumber}?`,
    intro: (w) => `Wave ${w.waveNumber} (${w.name}) ends SKIPPED and the waves that depend on it may start. The reason is kept in the report.`,
    path: (w) => `waves/${w.waveNumber}/skip`,
    confirm: (w) => `Skip wave ${w.waveNumber}`,
    reasonRequired: true,
    done: (w) => `Skip of wave ${w.waveNumber} requested.`,
  },
  pause: {
    title: () => 'Pause this execution?',
    intro: () => 'No new wave starts until it is resumed. Waves already running go on and are observed.',
    path: () => 'pause',
    confirm: () => 'Pause',
    reasonRequired: false,
    done: () => 'Pause requested.',
  },
  resume: {
    title: () => 'Resume this execution?',
    intro: () => 'The waves that became ready while it was paused start.',
    path: () => 'resume',
    confirm: () => 'Resume',
    reasonRequired: false,
    done: () => 'Resume requested.',
  },
};

/** Opens the confirmation dialog of `kind` ('retry', 'skip', 'pause', 'resume');
 * true once the command was accepted. */
export async function operate(executionId, kind, wave = null) {
  const c = COMMANDS[kind];
  const fields = [];
  if (kind !== 'resume') {
    fields.push({ name: 'reason', label: c.reasonRequired ? 'Reason' : 'Reason (optional)', required: c.reasonRequired });
  }
  fields.push(
    { name: 'requestedBy', label: 'Your name', required: true, value: rememberedUser(), autocomplete: 'name' },
    { name: 'token', label: 'API token', type: 'password', required: true, value: storedToken(), hint: 'Kept for this browser tab only.' });
  const done = await formDialog({
    title: c.title(wave),
    intro: c.intro(wave),
    fields,
    confirmLabel: c.confirm(wave),
    danger: kind === 'skip',
    testid: `${kind}-dialog`,
    onSubmit: async ({ reason, requestedBy, token }) => {
      rememberUser(requestedBy);
      const body = { requestedBy: requestedBy.trim() };
      if (reason && reason.trim()) body.reason = reason.trim();
      await postJSON(`/api/executions/${encodeURIComponent(executionId)}/${c.path(wave)}`, body, token.trim());
    },
  });
  if (done) toast(c.done(wave));
  return done;
}

/** The operator buttons of a wave: Retry and Skip when FAILED, Skip when WAITING. */
export function waveButtons(wave, onOperate) {
  const button = (kind, label, cls) => h('button', {
    type: 'button', class: `btn ${cls} btn-small`, 'data-testid': `${kind}-button`,
    id: `${kind}-wave-${wave.waveNumber}`, onclick: () => onOperate(kind, wave),
  }, label);
  if (wave.status === 'FAILED') {
    return h('div', { class: 'gate operator' },
      h('span', {}, 'An operator can relaunch its failed servers, or skip it.'),
      button('retry', 'Retry', 'btn-primary'), button('skip', 'Skip', 'btn-danger'));
  }
  if (wave.status === 'WAITING') {
    return h('div', { class: 'gate operator' },
      h('span', {}, 'Waiting for DRS capacity; it can be skipped.'), button('skip', 'Skip', 'btn-danger'));
  }
  return null;
}

/** A line saying who paused the execution, or null. */
export function pausedNote(view) {
  const p = view.paused;
  if (!p) return null;
  return h('p', { class: 'exec-reason', role: 'status', 'data-testid': 'paused-note' },
    `Paused by ${p.requestedBy}${p.reason ? ` (${p.reason})` : ''}: no new wave starts until it is resumed.`);
}
