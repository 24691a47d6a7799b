// The live view of one execution over Server-Sent Events.
//
// `snapshot` replaces the whole view (first event of every connection),
// `update` carries the current top-level fields and only the waves that
// changed (merged by waveNumber), `settled` means nothing more will change:
// the stream is closed so EventSource does not reconnect. EventSource
// reconnects by itself after a network error; when it gives up (the server
// answered with an error status) we open a new one with a growing delay.

/** Merges an `update` into the current view: new top-level fields, changed waves replaced. */
export function mergeUpdate(view, update) {
  const changed = new Map((update.waves || []).map((w) => [w.waveNumber, w]));
  const waves = (view ? view.waves : []).map((w) => {
    const next = changed.get(w.waveNumber);
    changed.delete(w.waveNumber);
    return next || w;
  });
  waves.push(...changed.values());
  waves.sort((a, b) => a.waveNumber - b.waveNumber);
  return { ...update, waves };
}

export class LiveExecution {
  /**
   * onView(view, changedWaveNumbers|null) — null means everything changed.
   * onState('connecting' | 'live' | 'reconnecting' | 'settled').
   */
  constructor(executionId, { onView, onState }) {
    this.url = `/api/executions/${encodeURIComponent(executionId)}/events`;
    this.onView = onView;
    this.onState = onState;
    this.view = null;
    this.source = null;
    this.retryDelay = 1000;
    this.retryTimer = null;
    this.settled = false;
    this.state = null;
  }

  start(initialView) {
    this.view = initialView || null;
    this.connect();
  }

  stop() {
    clearTimeout(this.retryTimer);
    if (this.source) this.source.close();
    this.source = null;
  }

  setState(state) {
    if (state === this.state) return;
    this.state = state;
    this.onState(state);
  }

  connect() {
    this.setState(this.state === 'reconnecting' ? 'reconnecting' : 'connecting');
    const source = new EventSource(this.url, { withCredentials: true });
    this.source = source;
    source.addEventListener('snapshot', (e) => {
      this.view = JSON.parse(e.data);
      this.retryDelay = 1000;
      this.setState('live');
      this.onView(this.view, null);
    });
    source.addEventListener('update', (e) => {
      const update = JSON.parse(e.data);
      this.view = mergeUpdate(this.view, update);
      this.setState('live');
      this.onView(this.view, new Set((update.waves || []).map((w) => w.waveNumber)));
    });
    source.addEventListener('settled', () => {
      this.settled = true;
      source.close();
      this.setState('settled');
    });
    source.addEventListener('error', () => {
      if (this.settled || source !== this.source) return;
      this.setState('reconnecting');
      if (source.readyState === EventSource.CLOSED) {
        // EventSource gave up (an HTTP error status): retry ourselves.
        clearTimeout(this.retryTimer);
        this.retryTimer = setTimeout(() => this.connect(), this.retryDelay);
        this.retryDelay = Math.min(this.retryDelay * 2, 15000);
      }
    });
  }
}
