/**
 * Whatever a block's error contains — a NUL byte from a CSV header, control
 * characters, half a UTF-16 pair, megabytes of text — is stored, and the
 * run's blocks end `failed`, never `running` (issue 14 item 9).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storableJson, storableText, MAX_STORED_CHARS } from '../../src/runs/safe-text.ts';
import { faultProject, rawTraces, runCli, runStatuses, type FaultProject } from './harness.ts';
import pg from 'pg';

describe('storableText', () => {
  it('escapes NUL and terminal controls, replaces lone surrogates, cuts the middle of huge text', () => {
    expect(storableText('a\0b\x1b[2Jc\r\n\td')).toBe('a\\x00b\\x1b[2Jc\\x0d\n\td');
    expect(storableText('x\uD800y\uDC00z😀')).toBe('x\uFFFDy\uFFFDz😀');
    const huge = storableText(`${'a'.repeat(3_000_000)}END`);
    expect(huge.length).toBeLessThanOrEqual(MAX_STORED_CHARS);
    expect(huge).toMatch(/characters cut/);
    expect(huge.endsWith('END')).toBe(true);
    expect(JSON.parse(storableJson({ 'k\0': ['v\0'] }))).toEqual({ 'k\\x00': ['v\\x00'] });
  });
});

describe('in a run', () => {
  let project: FaultProject;
  beforeAll(async () => {
    project = await faultProject('errortext', { small: 10, big: 10 });
    writeFileSync(join(project.root, 'nul-header.csv'), 'VendorID,passen\0ger_count\n1,2\n');
    project.write(
      'blocks/shouting.ts',
      `import { loader } from 'pipekit';
export default loader(async () => { throw new Error('bad \\u0000 \\u001b[31m red \\uD800 ' + 'x'.repeat(3_000_000)); });
`,
    );
    project.write(
      'shouting/pipeline.yaml',
      'blocks:\n  - { uuid: shout, kind: loader, file: blocks/shouting.ts }\n  - { uuid: after, kind: exporter, file: blocks/postgres.ts, upstream: [shout] }\nretry: { attempts: 1 }\n',
    );
  });
  afterAll(async () => project?.close());

  it.each([
    ['a NUL byte in a CSV header', 'to_postgres', 'load', { url: '' }],
    ['an error of megabytes with control characters and a lone surrogate', 'shouting', 'shout', {}],
  ])('%s: stored, shown safely, and no block left running', async (_, pipeline, block, vars) => {
    const url = join(project.root, 'nul-header.csv');
    const run = await runCli(project, pipeline, { vars: 'url' in vars ? { url } : {} });
    expect(run.code, run.stderr).toBe(1);
    expect(rawTraces(run.stdout + run.stderr)).toEqual([]);
    expect(run.stderr).not.toMatch(/invalid byte sequence|could not store/);
    expect(run.stderr).not.toContain('\x1b[31m');
    const [latest] = await runStatuses(project.db);
    expect(latest.status).toBe('failed');
    expect(Object.values(latest.blocks)).not.toContain('running');
    expect(latest.blocks[block]).toBe('failed');
    const client = new pg.Client({ connectionString: project.db.url });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT error FROM pipekit.block_runs WHERE run_id = $1 AND error IS NOT NULL', [latest.run]);
      expect(rows[0].error.length).toBeLessThanOrEqual(MAX_STORED_CHARS);
      if ('url' in vars) expect(rows[0].error).toMatch(/\\x00/);
      const logs = await client.query('SELECT count(*) AS n FROM pipekit.logs WHERE run_id = $1', [latest.run]);
      expect(Number(logs.rows[0].n)).toBeGreaterThan(0);
    } finally {
      await client.end();
    }
  });
});
