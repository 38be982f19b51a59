export { decodeCsv, BATCH_ROWS, type DecodeCsvOptions } from './decode.ts';
export { encodeCsv, type CsvWriteOptions } from './encode.ts';
