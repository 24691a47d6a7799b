// DOM helpers shared by the views: element building (text only, never
// innerHTML, so nothing the API returns can inject markup) and the status
// badge, which always shows a glyph and the status word so that no state is
// told by colour alone.

/** Builds an element: h('div', {class: 'x', dataset: {testid: 'y'}}, child, ...). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'text') el.textContent = value;
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

/** Replaces every child of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// Every status of the view (execution, wave, server launch, health, action)
// mapped to a tone (the colour family) and a glyph.
const TONES = {
  PENDING: ['pending', '○'],
  NOT_CHECKED: ['pending', '–'],
  WAITING: ['pending', '◔'],
  IN_PROGRESS: ['running', '◐'],
  LAUNCHING: ['running', '◐'],
  RUNNING: ['running', '◐'],
  CHECKING: ['running', '◐'],
  POST_ACTIONS: ['actions', '◑'],
  LAUNCHED: ['launched', '▲'],
  COMPLETED: ['ok', '✓'],
  SUCCESS: ['ok', '✓'],
  HEALTHY: ['ok', '✓'],
  FAILED: ['failed', '✕'],
  UNHEALTHY: ['failed', '✕'],
  CANCELLED: ['warn', '⊘'],
  TIMEOUT: ['warn', '⌛'],
  SKIPPED: ['warn', '↷'],
  AWAITING_APPROVAL: ['gate', '‖'],
  TERMINATING: ['running', '◐'],
  TERMINATED: ['warn', '⊗'],
};

export function tone(status) {
  return (TONES[status] || ['pending', '•'])[0];
}

export function glyph(status) {
  return (TONES[status] || ['pending', '•'])[1];
}

/** A status badge: glyph + the status word, coloured by tone. */
export function badge(status, attrs = {}) {
  const label = status === 'AWAITING_APPROVAL' ? 'AWAITING APPROVAL' : String(status || 'UNKNOWN');
  const { class: extra, ...rest } = attrs;
  return h(
    'span',
    { class: `badge tone-${tone(status)}${extra ? ` ${extra}` : ''}`, ...rest },
    h('span', { class: 'badge-glyph', 'aria-hidden': 'true' }, glyph(status)),
    h('span', { class: 'badge-text' }, label.replace('_', ' ')),
  );
}

export const TERMINAL_EXECUTION = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT']);
