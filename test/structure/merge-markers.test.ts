import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/project.ts';

/**
 * A merge conflict committed by mistake: git's markers, or Biome's markdown formatting of them
 * (`> > > > > > > branch`, which is how two in docs/deploy.md went unnoticed for a session).
 */
describe('the repository', () => {
  it('holds no merge-conflict markers', () => {
    const pattern = '^(<{7}( |$)|={7}$|>{7}( |$)|(> ){7})';
    const grep = spawnSync('git', ['grep', '-n', '-I', '-E', pattern, '--', '.', ':!test/structure/merge-markers.test.ts'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    // git grep: 0 found, 1 nothing found.
    expect(grep.status === 1 ? '' : grep.stdout || grep.stderr).toBe('');
  });
});
