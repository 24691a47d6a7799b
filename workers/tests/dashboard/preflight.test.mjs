// The pre-flight panel (node --test): what it shows for the status JSON of
// a drill that pre-flight blocked (read from the Rust snapshot, so the
// shape is the API's), while it checks, and that it hides when none ran.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { byTestId, findAll, installFakeDom } from './fake-dom.mjs';

installFakeDom();
const { PreflightPanel, preflightModel } = await import('../../assets/dashboard/preflight.js');

/** The status view of `testing::blocked()`, as pinned by its insta snapshot. */
function blockedView() {
  const snap = readFileSync(new URL(
    '../../../shared/core/src/status/snapshots/ripcord__status__tests__blocked_by_preflight_snapshot.snap',
    import.meta.url,
  ), 'utf8');
  return JSON.parse(snap.slice(snap.indexOf('{')));
}

test('a blocked drill lists every finding, worst first, with what to do', () => {
  const model = preflightModel(blockedView());
  assert.equal(model.state, 'DONE');
  assert.equal(model.tone, 'failed', 'an error makes the summary bad news');
  assert.equal(model.headline, '2 errors, 1 warning, 1 note');
  assert.equal(model.mode, 'block');
  assert.equal(model.modeMeaning, 'an error stops the start before any wave launches');
  assert.equal(model.detail, '6 servers checked');
  assert.equal(model.open, true, 'errors and warnings unfold the list');
  assert.deepEqual(model.findings.map((f) => [f.severity, f.tone, f.word, f.check]), [
    ['ERROR', 'failed', 'Error', 'REPLICATION'],
    ['ERROR', 'failed', 'Error', 'SNAPSHOT_AGE'],
    ['WARNING', 'warn', 'Warning', 'LEFTOVER_INSTANCE'],
    ['INFO', 'pending', 'Note', 'SNAPSHOT_AGE'],
  ]);
  assert.equal(model.findings[0].place, 'wave app-tier · s-0a1b2c3d4e5f60021');
  assert.equal(model.findings[3].place, '', 'a plan-wide finding has no place');
  assert.match(model.findings[0].whatToDo, /^fix replication first/);
});

test('the panel draws each finding with its severity, and hides when none ran', () => {
  const panel = new PreflightPanel();
  assert.equal(panel.el.hidden, true, 'hidden until a view says otherwise');

  panel.setView(blockedView());
  assert.equal(panel.el.hidden, false);
  assert.equal(byTestId(panel.el, 'preflight-summary')[0].textContent, '2 errors, 1 warning, 1 note');
  assert.equal(byTestId(panel.el, 'preflight-mode')[0].textContent,
    'Mode block: an error stops the start before any wave launches');
  assert.match(byTestId(panel.el, 'preflight-summary')[0].className, /tone-failed/);
  const items = byTestId(panel.el, 'preflight-finding');
  assert.deepEqual(items.map((li) => li.dataset.severity), ['ERROR', 'ERROR', 'WARNING', 'INFO']);
  assert.match(items[0].className, /\btone-failed\b/);
  assert.match(items[2].className, /\btone-warn\b/);
  const first = items[0].textContent;
  assert.match(first, /✕ Error/);
  assert.match(first, /REPLICATION/);
  assert.match(first, /replication is STALLED, not CONTINUOUS/);
  assert.match(first, /What to do: fix replication first/);
  const details = findAll(panel.el, (el) => el.tagName === 'DETAILS');
  assert.equal(details[0].open, true);

  const { preflight, ...withoutPreflight } = blockedView();
  assert.ok(preflight);
  panel.setView(withoutPreflight);
  assert.equal(panel.el.hidden, true, 'no pre-flight ran: no panel');
  assert.equal(byTestId(panel.el, 'preflight-finding').length, 0);
});

test('while it checks, the panel says so and why no wave has started', () => {
  const view = {
    status: 'PENDING',
    waitingReason: 'running pre-flight checks: no wave starts until they finish',
    preflight: { state: 'CHECKING', mode: 'warn', summary: 'running', findings: [] },
  };
  const model = preflightModel(view);
  assert.equal(model.headline, 'Running pre-flight checks');
  assert.equal(model.tone, 'running');
  assert.equal(model.detail, view.waitingReason);
  assert.equal(model.mode, 'warn');
  assert.equal(model.modeMeaning, 'findings are recorded and the execution goes on');

  const panel = new PreflightPanel();
  panel.setView(view);
  assert.equal(panel.el.hidden, false);
  assert.equal(byTestId(panel.el, 'preflight-detail')[0].textContent, view.waitingReason);
  assert.equal(findAll(panel.el, (el) => el.tagName === 'DETAILS').length, 0, 'no findings yet');

  const ended = { status: 'CANCELLED', preflight: { ...view.preflight, summary: 'did not finish: the execution ended before pre-flight answered' } };
  assert.equal(preflightModel(ended).headline, 'Pre-flight did not finish: the execution ended before pre-flight answered');
  assert.equal(preflightModel(ended).tone, 'warn');
});

test('only notes: good news, folded', () => {
  const view = blockedView();
  view.preflight.findings = view.preflight.findings.filter((f) => f.severity === 'INFO');
  view.preflight.summary = '1 note';
  const model = preflightModel(view);
  assert.equal(model.tone, 'ok');
  assert.equal(model.open, false);
  assert.equal(model.headline, '1 note');
});
