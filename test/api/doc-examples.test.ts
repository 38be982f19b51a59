import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/project.ts';

/** The ```ts examples of a doc comment or a Markdown file that import from 'pipekit'. */
function examples(text: string): string[] {
  const blocks = [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!.replace(/^\s*\* ?/gm, ''));
  return blocks.filter((code) => code.includes("from 'pipekit'"));
}

const dir = join(REPO_ROOT, 'test-artifacts', `doc-examples-${process.pid}`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('documented examples type-check against the public API', () => {
  it("src/index.ts's doc comment and the README's block example", () => {
    const sources = {
      index: readFileSync(join(REPO_ROOT, 'src/index.ts'), 'utf8'),
      readme: readFileSync(join(REPO_ROOT, 'README.md'), 'utf8'),
    };
    mkdirSync(dir, { recursive: true });
    const files = Object.entries(sources).flatMap(([name, text]) =>
      examples(text).map((code, i) => {
        const file = join(dir, `${name}-${i}.ts`);
        writeFileSync(file, code);
        return file;
      }),
    );
    expect(files.length).toBeGreaterThanOrEqual(2);
    const config = ts.getParsedCommandLineOfConfigFile(
      join(REPO_ROOT, 'tsconfig.json'),
      {},
      { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} },
    )!;
    const program = ts.createProgram(files, config.options);
    // Checked file by file: asked for the whole program, the checker also checks every file of
    // src/ and its libraries (seconds of work), only for the filter to drop what it found there.
    const problems = files
      .flatMap((file) => ts.getPreEmitDiagnostics(program, program.getSourceFile(file)))
      .map((d) => `${d.file?.fileName ?? 'options'}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    expect(problems).toEqual([]);
  }, 60_000);
});
