import { describe, expect, it } from 'vitest';
import { workerArgs } from '../../src/cli/fan-out.ts';

describe('backfill worker arguments', () => {
  it('replaces --parallel and adds the shared backfill id', () => {
    expect(workerArgs(['backfill', 'p', '--start', '2021-01-01', '--parallel', '4', '--end', '2021-01-31'], ['--backfill-id', 'bf-1'])).toEqual([
      'backfill', 'p', '--start', '2021-01-01', '--end', '2021-01-31', '--parallel', '1', '--backfill-id', 'bf-1',
    ]);
    expect(workerArgs(['backfill', 'p', '-p', '2', '--parallel=3'], [])).toEqual(['backfill', 'p', '--parallel', '1']);
  });
});
