// Modal dialogs (<dialog>, so focus trapping, Escape and the backdrop come
// from the browser): a form that submits asynchronously and shows the
// server's error in place, and a read-only details dialog.

import { h } from './dom.js';

/**
 * Opens a form dialog and resolves once it is closed: with the value that
 * `onSubmit(values)` returned, or null when dismissed. `onSubmit` may throw
 * an Error; its message is shown in the dialog, which stays open.
 */
export function formDialog({ title, intro, fields, confirmLabel, danger = false, testid, onSubmit }) {
  return new Promise((resolve) => {
    const error = h('p', { class: 'dialog-error', role: 'alert', hidden: true });
    const inputs = fields.map((f) => {
      const id = `field-${f.name}`;
      const input = h(f.type === 'textarea' ? 'textarea' : 'input', {
        id, name: f.name, type: f.type === 'textarea' ? undefined : (f.type || 'text'),
        required: f.required, autocomplete: f.autocomplete || 'off', placeholder: f.placeholder,
        rows: f.type === 'textarea' ? 3 : undefined, 'data-testid': `field-${f.name}`,
      });
      input.value = f.value || '';
      return h('div', { class: 'field' },
        h('label', { for: id }, f.label),
        input,
        f.hint ? h('p', { class: 'field-hint' }, f.hint) : null);
    });
    const submit = h('button', { type: 'submit', class: danger ? 'btn btn-danger' : 'btn btn-primary', 'data-testid': 'dialog-confirm' }, confirmLabel);
    const dismiss = h('button', { type: 'button', class: 'btn', value: 'cancel' }, 'Close');
    const form = h('form', { method: 'dialog' },
      h('h2', {}, title),
      intro ? h('p', { class: 'dialog-intro' }, intro) : null,
      inputs, error,
      h('div', { class: 'dialog-buttons' }, dismiss, submit));
    const dialog = h('dialog', { class: 'dialog', 'data-testid': testid }, form);
    let result = null;
    dismiss.addEventListener('click', () => dialog.close());
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const values = Object.fromEntries(new FormData(form).entries());
      submit.disabled = true;
      error.hidden = true;
      try {
        result = await onSubmit(values);
        if (result === undefined) result = true;
        dialog.close();
      } catch (e) {
        error.textContent = e.message || String(e);
        error.hidden = false;
      } finally {
        submit.disabled = false;
      }
    });
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(result);
    });
    document.body.appendChild(dialog);
    dialog.showModal();
    const first = form.querySelector('input:not([value]), input, textarea');
    const empty = [...form.querySelectorAll('input, textarea')].find((i) => !i.value);
    (empty || first)?.focus();
  });
}

/** A read-only dialog with a title and arbitrary content. */
export function detailsDialog(title, content, testid) {
  const close = h('button', { type: 'submit', class: 'btn' }, 'Close');
  const dialog = h('dialog', { class: 'dialog dialog-wide', 'data-testid': testid },
    h('form', { method: 'dialog' },
      h('h2', {}, title),
      content,
      h('div', { class: 'dialog-buttons' }, close)));
  dialog.addEventListener('close', () => dialog.remove());
  document.body.appendChild(dialog);
  dialog.showModal();
  close.focus();
}
