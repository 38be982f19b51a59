import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.ts';
import { loadProject } from '../../src/project/load-project.ts';
import { createTestProject, type TestProject } from '../support/project.ts';

const BLOCK = "import { loader } from 'pipekit';\nexport default loader(async () => 1);\n";

let project: TestProject | undefined;
afterEach(() => project?.remove());

function projectWith(yaml: string, blocks: string[] = ['a', 'b', 'c']): TestProject {
  project = createTestProject('load', {}, Object.fromEntries(blocks.map((b) => [`blocks/${b}.ts`, BLOCK])));
  project.write('p/pipeline.yaml', yaml);
  return project;
}

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('pipeline.yaml validation', () => {
  it('reads a valid pipeline into the model with defaults', () => {
    const p = projectWith(`
blocks:
  - { uuid: a, kind: loader, file: blocks/a.ts }
  - { uuid: b, kind: transformer, file: blocks/b.ts, upstream: [a], timeout: 30s, retry: { attempts: 3 } }
triggers:
  - { name: daily, schedule: "@daily", timezone: America/New_York }
retry: { attempts: 2, delay: 1s, backoff: fixed }
resources: { cpu: "1", memory: 512Mi, task_timeout: 10m }
`);
    const spec = loadProject(p.root).pipelines.get('p')!;
    expect(spec.blocks.map((b) => b.uuid)).toEqual(['a', 'b']);
    expect(spec.blocks[0]!.retry).toEqual({ attempts: 2, delayMs: 1000, backoff: 'fixed', maxDelayMs: 60000 });
    expect(spec.blocks[1]!.retry.attempts).toBe(3);
    expect(spec.blocks[1]!.timeoutMs).toBe(30000);
    expect(spec.triggers[0]).toMatchObject({ type: 'schedule', schedule: '@daily', timezone: 'America/New_York', enabled: true });
    expect(spec.resources).toEqual({ cpu: '1', memory: '512Mi', taskTimeoutMs: 600000, parallelism: 1, maxRetries: 0 });
  });

  it('reads sql.partition as a run-interval replace, and names a partition without a table or with another policy', () => {
    const sql = (settings: string) => {
      const p = projectWith(`blocks:\n  - { uuid: s, kind: exporter, file: blocks/s.sql, sql: ${settings} }\n`, []);
      p.write('blocks/s.sql', 'SELECT 1 AS day');
      return p;
    };
    const spec = loadProject(sql('{ table: t, partition: day }').root).pipelines.get('p')!;
    expect(spec.blocks[0]!.sql).toMatchObject({ table: 't', write: 'replace', partition: 'day' });
    expect(errorOf(() => loadProject(sql('{ partition: day }').root)).key).toBe('blocks[0].sql.partition');
    expect(errorOf(() => loadProject(sql('{ table: t, write: append, partition: day }').root)).message).toContain(
      'write: append contradicts',
    );
  });

  it('names an unknown key', () => {
    const p = projectWith('blocks:\n  - { uuid: a, kind: loader, file: blocks/a.ts, upstrem: [] }\n');
    const e = errorOf(() => loadProject(p.root));
    expect(e.file).toMatch(/p\/pipeline\.yaml$/);
    expect(e.key).toBe('blocks[0]');
    expect(e.message).toContain('unknown key "upstrem"');
  });

  it('names a missing block file and how to create it', () => {
    const p = projectWith('blocks:\n  - { uuid: z, kind: loader, file: blocks/zzz.ts }\n');
    const e = errorOf(() => loadProject(p.root));
    expect(e.key).toBe('blocks[0].file');
    expect(e.describe()).toContain('pipekit new block z');
  });

  it('names an unknown upstream and lists the known ones', () => {
    const p = projectWith(
      'blocks:\n  - { uuid: a, kind: loader, file: blocks/a.ts }\n  - { uuid: b, kind: transformer, file: blocks/b.ts, upstream: [nope] }\n',
    );
    const e = errorOf(() => loadProject(p.root));
    expect(e.key).toBe('blocks[1].upstream[0]');
    expect(e.message).toContain('unknown upstream "nope"');
    expect(e.hint).toContain('a, b');
  });

  it('reports a cycle as a path', () => {
    const p = projectWith(`
blocks:
  - { uuid: a, kind: loader, file: blocks/a.ts, upstream: [c] }
  - { uuid: b, kind: transformer, file: blocks/b.ts, upstream: [a] }
  - { uuid: c, kind: transformer, file: blocks/c.ts, upstream: [b] }
`);
    const e = errorOf(() => loadProject(p.root));
    expect(e.key).toBe('blocks');
    expect(e.message).toMatch(/cycle: (a → b → c → a|b → c → a → b|c → a → b → c)/);
  });

  it('rejects duplicate uuids', () => {
    const p = projectWith('blocks:\n  - { uuid: a, kind: loader, file: blocks/a.ts }\n  - { uuid: a, kind: loader, file: blocks/b.ts }\n');
    expect(errorOf(() => loadProject(p.root)).message).toContain('duplicate block uuid "a"');
  });

  it('rejects bad schedules and time zones', () => {
    const p = projectWith(
      'blocks:\n  - { uuid: a, kind: loader, file: blocks/a.ts }\ntriggers:\n  - { name: t, schedule: "61 * * * *" }\n',
    );
    expect(errorOf(() => loadProject(p.root)).key).toBe('triggers[0].schedule');
    p.write(
      'p/pipeline.yaml',
      'blocks:\n  - { uuid: a, kind: loader, file: blocks/a.ts }\ntriggers:\n  - { name: t, schedule: "@daily", timezone: Mars/Olympus }\n',
    );
    const zoneError = errorOf(() => loadProject(p.root));
    expect(zoneError.message).toContain('unknown time zone');
    expect(zoneError.key).toBe('triggers[0].timezone');
    p.write(
      'p/pipeline.yaml',
      'blocks:\n  - { uuid: a, kind: loader, file: blocks/a.ts }\ntriggers:\n  - { name: t, schedule: "@fortnightly" }\n',
    );
    expect(errorOf(() => loadProject(p.root)).message).toContain('unknown preset');
  });

  it('lets several pipelines share one block file', () => {
    const p = projectWith('blocks:\n  - { uuid: a, kind: loader, file: blocks/a.ts }\n');
    p.write('q/pipeline.yaml', 'blocks:\n  - { uuid: other_name, kind: loader, file: blocks/a.ts }\n');
    const project = loadProject(p.root);
    expect(project.pipelines.get('p')!.blocks[0]!.path).toBe(project.pipelines.get('q')!.blocks[0]!.path);
  });
});

describe('the example project', () => {
  it('validates', () => {
    const project = loadProject(new URL('../../pipelines', import.meta.url).pathname);
    expect([...project.pipelines.keys()].sort()).toEqual([
      'api_to_gcs',
      'api_to_gcs_parameterized',
      'api_to_postgres',
      'example_pipeline',
      'gcs_to_bigquery',
    ]);
  });
});
