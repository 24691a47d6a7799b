// Drill clean-up on the execution page: a "Clean up" button on a settled
// drill (confirmation dialog, write token) and a line saying who asked,
// when, why and where it stands. The server table shows each server's own
// clean-up status next to its instance (cleanupBadge).

import { postJSON, storedToken } from './api.js';
import { formDialog } from './dialog.js';
import { badge, h, replace, TERMINAL_EXECUTION } from './dom.js';
import { timeEl } from './format.js';
import { toast } from './toast.js';

const RUNNING_WAVE = new Set(['LAUNCHING', 'POST_ACTIONS']);

/** Whether nothing of the execution runs any more (the API refuses otherwise). */
function settled(v) {
  return TERMINAL_EXECUTION.has(v.status) && !v.waves.some((w) => RUNNING_WAVE.has(w.status));
}

export class CleanupControl {
  /** user(): the remembered name; remember(name) keeps it; onRequested() once accepted. */
  constructor({ user, remember, onRequested }) {
    this.user = user;
    this.remember = remember;
    this.onRequested = onRequested;
    this.button = h('button', {
      type: 'button', class: 'btn btn-danger', 'data-testid': 'cleanup-button', hidden: true,
      onclick: () => this.open(),
    }, 'Clean up');
    this.line = h('p', { class: 'cleanup-line', 'data-testid': 'cleanup-summary', role: 'status', hidden: true });
  }

  setView(v) {
    this.view = v;
    // After a clean-up that ended FAILED, a new request retries the FAILED servers.
    const again = v.cleanup && v.cleanup.status === 'FAILED';
    this.button.hidden = !(v.mode === 'drill' && settled(v) && (!v.cleanup || again));
    this.button.textContent = again ? 'Clean up again' : 'Clean up';
    const c = v.cleanup;
    this.line.hidden = !c;
    if (!c) return;
    replace(this.line, 'Clean-up ', badge(c.status, { 'data-testid': 'cleanup-status' }),
      ` requested by ${c.requestedBy} at `, timeEl(c.requestedAt), ` (${c.reason}): `,
      `${c.terminated} terminated, ${c.terminating} terminating, ${c.failed} failed.`);
  }

  async open() {
    const v = this.view;
    const retry = (s) => !v.cleanup || (s.cleanup && s.cleanup.status === 'FAILED');
    const instances = v.waves.flatMap((w) => w.servers).filter((s) => s.recoveryInstanceId && retry(s)).length;
    const done = await formDialog({
      title: 'Clean up this drill?',
      intro: `${v.planName} (${v.executionId}): terminate the ${instances} recovery instance${instances === 1 ? '' : 's'} this drill launched. Instances it did not launch are never touched. The drill keeps its status and RTO.`,
      fields: [
        { name: 'reason', label: 'Reason', required: true, placeholder: 'e.g. drill reviewed' },
        { name: 'requestedBy', label: 'Your name', required: true, value: this.user(), autocomplete: 'name' },
        { name: 'token', label: 'API token', type: 'password', required: true, value: storedToken(), hint: 'Kept for this browser tab only.' },
      ],
      confirmLabel: 'Terminate instances',
      danger: true,
      testid: 'cleanup-dialog',
      onSubmit: async ({ reason, requestedBy, token }) => {
        this.remember(requestedBy);
        await postJSON(`/api/executions/${encodeURIComponent(v.executionId)}/cleanup`,
          { reason: reason.trim(), requestedBy: requestedBy.trim() }, token.trim());
      },
    });
    if (!done) return;
    toast('Clean-up requested. Each wave terminates the instances it launched.');
    this.onRequested?.();
  }
}

/** A server's clean-up status (with the reason as its title), or nothing. */
export function cleanupBadge(server) {
  const c = server.cleanup;
  if (!c) return null;
  return badge(c.status, {
    class: 'badge-quiet', 'data-testid': 'server-cleanup-status', title: c.reason || `clean-up ${c.status}`,
  });
}
