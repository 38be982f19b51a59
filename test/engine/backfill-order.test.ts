import { describe, expect, it } from 'vitest';
import { taskOrder } from '../../src/engine/backfill.ts';

describe('which dates a backfill task tries', () => {
  it('its own share first, then the others from the end', () => {
    const dates = [0, 1, 2, 3, 4, 5, 6];
    expect(taskOrder(dates, 0, 1)).toEqual(dates);
    expect(taskOrder(dates, 0, 2)).toEqual([0, 2, 4, 6, 5, 3, 1]);
    expect(taskOrder(dates, 1, 2)).toEqual([1, 3, 5, 6, 4, 2, 0]);
    expect(taskOrder(dates, 2, 3)).toEqual([2, 5, 6, 4, 3, 1, 0]);
  });
});
