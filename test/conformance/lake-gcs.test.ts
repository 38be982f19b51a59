import { afterAll, beforeAll } from 'vitest';
import { createGcsStore } from '../../src/io/gcs/store.ts';
import { createLake } from '../../src/io/lake/lake.ts';
import type { Lake } from '../../src/io/types.ts';
import { startGcsFake, type GcsFake } from '../support/gcs-fake.ts';
import { lakeSuite } from './lake-suite.ts';

let gcs: GcsFake;
let lake: Lake;
beforeAll(async () => {
  gcs = await startGcsFake();
  gcs.createBucket('conformance-lake');
  lake = createLake(createGcsStore({ uri: 'gs://conformance-lake/pipekit', storage: gcs.client() }));
});
afterAll(() => gcs?.close());

lakeSuite('GCS lake', () => ({ lake, uri: 'gs://conformance-lake/pipekit/' }));
