// Unit tests of the dashboard's DOM-free modules (node --test): how a live
// `update` is merged into the view, and how durations read.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDuration, formatRelative } from '../../assets/dashboard/format.js';
import { mergeUpdate } from '../../assets/dashboard/live.js';

const wave = (n, status) => ({ waveNumber: n, status, servers: [] });

test('an update replaces the waves it carries and keeps the others as they were', () => {
  const w1 = wave(1, 'COMPLETED');
  const w3 = wave(3, 'PENDING');
  const view = { status: 'IN_PROGRESS', waves: [w1, wave(2, 'PENDING'), w3] };
  const merged = mergeUpdate(view, { status: 'IN_PROGRESS', progress: { percentComplete: 40 }, waves: [wave(2, 'LAUNCHING')] });
  assert.deepEqual(merged.waves.map((w) => w.status), ['COMPLETED', 'LAUNCHING', 'PENDING']);
  assert.equal(merged.waves[0], w1, 'an unchanged wave keeps its identity (its DOM is kept)');
  assert.equal(merged.waves[2], w3);
  assert.equal(merged.progress.percentComplete, 40, 'top-level fields come from the update');
  assert.equal(view.waves[1].status, 'PENDING', 'the previous view is not mutated');
});

test('an update with no waves changes only the top-level fields', () => {
  const view = { status: 'IN_PROGRESS', waves: [wave(1, 'LAUNCHING')] };
  const merged = mergeUpdate(view, { status: 'CANCELLED', waves: [] });
  assert.equal(merged.status, 'CANCELLED');
  assert.equal(merged.waves[0], view.waves[0]);
});

test('a wave the view did not have is added in wave order', () => {
  const merged = mergeUpdate({ waves: [wave(1, 'COMPLETED'), wave(3, 'PENDING')] }, { waves: [wave(2, 'LAUNCHING')] });
  assert.deepEqual(merged.waves.map((w) => w.waveNumber), [1, 2, 3]);
});

test('durations read like an incident report', () => {
  assert.equal(formatDuration(0), '0s');
  assert.equal(formatDuration(42_900), '42s');
  assert.equal(formatDuration(229_000), '3m 49s');
  assert.equal(formatDuration(3_720_000), '1h 02m');
  assert.equal(formatDuration(2 * 86_400_000 + 3 * 3_600_000), '2d 3h');
  assert.equal(formatDuration(-5000), '0s');
  assert.equal(formatDuration(null), '—');
  assert.equal(formatRelative(60_000, 0), 'in 1m 00s');
  assert.equal(formatRelative(0, 90_000), 'overdue by 1m 30s');
});

test('a server of a wave without health checks reads NOT CHECKED, in the waiting tone, not PENDING', async () => {
  const { tone, glyph } = await import('../../assets/dashboard/dom.js');
  assert.equal(tone('NOT_CHECKED'), 'pending');
  assert.notEqual(glyph('NOT_CHECKED'), glyph('PENDING'), 'told apart without colour');
  assert.notEqual(glyph('NOT_CHECKED'), '•', 'a known status, not the fallback');
});
