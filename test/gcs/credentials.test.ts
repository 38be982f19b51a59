import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IoProfile } from '../../src/config/io-profile.ts';
import { ConfigError, ConnectionError } from '../../src/errors.ts';
import { createGcsStore } from '../../src/io/gcs/store.ts';
import { Storage } from '@google-cloud/storage';
import { startGcsFake } from '../support/gcs-fake.ts';

// A machine with no Google credentials at all: no key file, no gcloud login
// (HOME points at an empty folder), no metadata server. The real client
// library looks for Application Default Credentials and finds none.
const saved: Record<string, string | undefined> = {};
let home: string;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'pipekit-nocreds-'));
  const env = {
    HOME: home,
    CLOUDSDK_CONFIG: join(home, 'gcloud'),
    METADATA_SERVER_DETECTION: 'none',
    GOOGLE_APPLICATION_CREDENTIALS: undefined,
    STORAGE_EMULATOR_HOST: undefined,
  };
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});
afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await rm(home, { recursive: true, force: true });
});

const profile = (values: Record<string, string>) => new IoProfile({ name: 'cloud', file: '/p/io_config.yaml', root: '/p', values });

describe('GCS credentials', () => {
  it('no credentials: a ConnectionError that says to run gcloud auth application-default login', async () => {
    // The library looks for ADC, finds none, and goes on anonymously; GCS then answers 401.
    const gcs = await startGcsFake({ requireAuth: true });
    gcs.createBucket('zoomcamp-lake');
    const storage = new Storage({ apiEndpoint: gcs.url, useAuthWithCustomEndpoint: true, retryOptions: { autoRetry: false } });
    const store = createGcsStore({ uri: 'gs://zoomcamp-lake/pipekit', profile: profile({ GOOGLE_PROJECT_ID: 'my-project-123' }), storage });
    const error = await store.list('nyc_taxi_data/').catch((e) => e);
    await gcs.close();
    expect(gcs.requests[0].path).toBe('/storage/v1/b/zoomcamp-lake/o');
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.message).toContain('no usable Google credentials');
    expect(error.message).toContain('gs://zoomcamp-lake');
    expect(error.hint).toContain('gcloud auth application-default login');
  });

  it('a key file that does not exist is a ConfigError naming the io_config key', async () => {
    const store = createGcsStore({ uri: 'gs://zoomcamp-lake', profile: profile({ GOOGLE_SERVICE_ACC_KEY_FILEPATH: 'keys/missing.json' }) });
    const error = await store.exists('a.parquet').catch((e) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('cloud.GOOGLE_SERVICE_ACC_KEY_FILEPATH');
    expect(error.message).toContain('/p/keys/missing.json');
  });
});
