// The in-memory request budget of a lone daemon (SQLite): the sliding window and the slots, timed
// by the test's own clock.
import { expect, test } from 'vitest';
import { LocalBudget, waitForRoom } from '../../providers/budget.js';

test('room comes back when enough of the oldest spends have left the window', () => {
  expect(waitForRoom([], 3, 10, 1_000, 5_000)).toBe(0);
  expect(waitForRoom([[4_500, 7]], 3, 10, 1_000, 5_000)).toBe(0);
  // 7 + 4 > 10: the spend at 4,500 must leave first, at 5,500.
  expect(waitForRoom([[4_500, 7]], 4, 10, 1_000, 5_000)).toBe(501);
  // Only the second of three need not leave: 2 + 5 + 3 = 10, and 4 more needs 4 gone, so both first ones.
  expect(waitForRoom([[4_100, 2], [4_200, 5], [4_900, 3]], 4, 10, 1_000, 5_000)).toBe(201);
  // More than the whole limit at once waits for an empty window.
  expect(waitForRoom([[4_100, 2], [4_900, 3]], 12, 10, 1_000, 5_000)).toBe(901);
});

test('a lone daemon spends at most the limit in any window, and holds at most N slots at once', async () => {
  const budget = new LocalBudget();
  const spends: number[] = [];
  await Promise.all(Array.from({ length: 12 }, async () => {
    await budget.spend('google:me', 1, 5, 200);
    spends.push(Date.now());
  }));
  expect(spends).toHaveLength(12);
  for (const t of spends) expect(spends.filter((u) => u > t - 200 && u <= t).length).toBeLessThanOrEqual(5);
  // Twelve at five per window (with the margin): at least two windows waited.
  expect(Math.max(...spends) - Math.min(...spends)).toBeGreaterThanOrEqual(2 * 200);

  let inside = 0;
  let most = 0;
  await Promise.all(Array.from({ length: 10 }, () => budget.withSlot('outlook:box', 4, async () => {
    most = Math.max(most, ++inside);
    await new Promise((resolve) => setTimeout(resolve, 10));
    inside -= 1;
  })));
  expect(most).toBe(4);
});
