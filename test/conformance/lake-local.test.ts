import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll } from 'vitest';
import { createLocalLake } from '../../src/io/lake/lake.ts';
import { lakeSuite } from './lake-suite.ts';

const folder = mkdtempSync(join(tmpdir(), 'pipekit-lake-conformance-'));
const lake = createLocalLake(folder);
afterAll(() => rmSync(folder, { recursive: true, force: true }));

lakeSuite('local folder lake', () => ({ lake, uri: pathToFileURL(folder).href }));
