export { createHttpLoader, type HttpLoaderOptions } from './loader.ts';
export { openSource } from './open-source.ts';
export { maybeGunzip } from './decompress.ts';
