// The deployment's DRS capacity in the top bar: servers and jobs in use
// against the quotas, and the waves waiting for room (GET /api/capacity).

import { getJSON } from './api.js';

const EVERY_MS = 5000;

/** Keeps `el` showing the capacity ledger, refreshed every few seconds. */
export function followCapacity(el) {
  const refresh = async () => {
    try {
      const { usage } = await getJSON('/api/capacity');
      const q = usage.quotas;
      const waiting = usage.wavesWaiting === 1 ? '1 wave waiting' : `${usage.wavesWaiting} waves waiting`;
      el.textContent =
        `DRS capacity: ${usage.serversInUse}/${q.serversInActiveJobs} servers · ` +
        `${usage.jobsInUse}/${q.concurrentJobs} jobs · ${waiting}`;
      el.dataset.waiting = String(usage.wavesWaiting);
      el.hidden = false;
    } catch {
      el.hidden = true;
    }
  };
  refresh();
  setInterval(refresh, EVERY_MS);
}
