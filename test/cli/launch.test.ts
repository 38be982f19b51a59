import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { staleReason } from '../../bin/launch.js';

/** bin/launch.js runs dist/ only while it is at least as new as every source file and folder. */
let root: string;
const at = (minutes: number) => new Date(Date.UTC(2026, 0, 1, 12, minutes));
function write(path: string, minutes: number): void {
  const full = join(root, path);
  mkdirSync(join(full, '..'), { recursive: true });
  writeFileSync(full, '');
  utimesSync(full, at(minutes), at(minutes));
}
function project(): void {
  root = mkdtempSync(join(tmpdir(), 'pipekit-launch-'));
  write('src/engine/runner.ts', 0);
  write('functions/index.ts', 0);
  for (const dir of ['src/engine', 'src', 'functions']) utimesSync(join(root, dir), at(0), at(0));
}

afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('staleReason', () => {
  it('says dist/ is not built when there is no build stamp', () => {
    project();
    expect(staleReason(root)).toBe('dist/ is not built');
  });

  it('trusts a build newer than every source', () => {
    project();
    write('dist/.build-stamp', 5);
    expect(staleReason(root)).toBeNull();
  });

  it('names the source file saved after the build', () => {
    project();
    write('dist/.build-stamp', 5);
    utimesSync(join(root, 'src/engine/runner.ts'), at(9), at(9));
    expect(staleReason(root)).toBe('src/engine/runner.ts changed since the last build');
  });

  it('notices a file added to or removed from a folder', () => {
    project();
    write('dist/.build-stamp', 5);
    utimesSync(join(root, 'functions'), at(9), at(9));
    expect(staleReason(root)).toBe('functions changed since the last build');
  });

  it('trusts dist/ where there are no sources (an installed package, the container image)', () => {
    project();
    write('dist/.build-stamp', 5);
    rmSync(join(root, 'src'), { recursive: true });
    expect(staleReason(root)).toBeNull();
  });

  it('trusts a packed pipekit unpacked anywhere: npm dates every file 1985, its folders the unpacking', () => {
    project();
    const packed = new Date('1985-10-26T08:15:00.000Z');
    write('dist/.build-stamp', 0);
    for (const file of ['dist/.build-stamp', 'src/engine/runner.ts', 'functions/index.ts']) utimesSync(join(root, file), packed, packed);
    expect(staleReason(root)).toBeNull();
  });
});
