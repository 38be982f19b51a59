import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cycles, importGraph } from './import-graph.ts';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const edges = importGraph(REPO_ROOT, ['src', 'functions', 'infra', 'bin']);

describe('the dependency picture', () => {
  it('finds the imports it checks (the scan itself works)', () => {
    expect(edges.some((e) => e.from === 'functions/backfill.ts' && e.to === 'src/cloud/backfill.ts')).toBe(true);
    expect(edges.some((e) => e.from === 'infra/components/pipeline-job.ts' && e.to === 'src/cloud/naming.ts')).toBe(true);
  });

  it('src/ never imports infra/ or functions/: the image and the functions ship src without them', () => {
    const outward = edges.filter((e) => e.from.startsWith('src/') && /^(infra|functions)\//.test(e.to));
    expect(outward.map((e) => `${e.from} → ${e.to}`)).toEqual([]);
  });

  it('functions/ and the console reach the cloud through src/cloud, never through each other', () => {
    const crossing = edges.filter(
      (e) =>
        (e.from.startsWith('functions/') && e.to.startsWith('src/console/')) ||
        (e.from.startsWith('src/console/') && e.to.startsWith('functions/')),
    );
    expect(crossing.map((e) => `${e.from} → ${e.to}`)).toEqual([]);
  });

  it('src/cloud depends on the engine layer and below, never on the CLI or the console', () => {
    const upward = edges.filter((e) => e.from.startsWith('src/cloud/') && /^src\/(cli|console)\//.test(e.to));
    expect(upward.map((e) => `${e.from} → ${e.to}`)).toEqual([]);
  });

  it('the engine and the connectors never reach up into the CLI or the console; the connectors not into src/cloud either', () => {
    const upward = edges.filter(
      (e) =>
        (/^src\/(engine|io|project|config|time|table|blocks)\//.test(e.from) && /^src\/(cli|console)\//.test(e.to)) ||
        // The engine may ask src/cloud's Run API seam about executions (run reconciliation); nothing below it may.
        (/^src\/(io|project|config|time|table|blocks)\//.test(e.from) && /^src\/cloud\//.test(e.to)),
    );
    expect(upward.map((e) => `${e.from} → ${e.to}`)).toEqual([]);
  });

  it('has no import cycle among the modules that load at run time', () => {
    expect(cycles(edges.filter((e) => !e.typeOnly))).toEqual([]);
  });
});

describe('cycles', () => {
  it('reports a cycle, and a file that imports itself', () => {
    const edge = (from: string, to: string) => ({ from, to, typeOnly: false });
    expect(cycles([edge('a', 'b'), edge('b', 'c'), edge('c', 'a'), edge('c', 'd')])).toEqual([['a', 'b', 'c']]);
    expect(cycles([edge('x', 'x')])).toEqual([['x']]);
    expect(cycles([edge('a', 'b'), edge('a', 'c'), edge('b', 'c')])).toEqual([]);
  });
});
