/** Google Cloud Storage: the lake's ObjectStore in the cloud. */
export { createGcsStore, type GcsStoreOptions } from './store.ts';
export { createStorageClient, googleClientOptions } from './client.ts';
export { gcsError, type GcsErrorContext } from './errors.ts';
export { parseGsUri, type GcsLocation } from './uri.ts';
