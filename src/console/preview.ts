import { createReadStream, existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { DataType, RecordBatchReader, type Field, type Schema } from 'apache-arrow';

export interface OutputPreview {
  readonly format: 'arrow' | 'json';
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  readonly rows: readonly Record<string, unknown>[];
  /** Rows in the whole output when known. */
  readonly totalRows: number | null;
  readonly bytes: number;
  /** For outputs that are not tables: the value itself (truncated). */
  readonly value?: unknown;
}

const JSON_PREVIEW_MAX = 2_000_000;

/**
 * The first `limit` rows of a block's output and its column types. Arrow
 * files are read batch by batch and reading stops after the first rows, so
 * previewing a month of taxi data does not load the month.
 */
export async function previewOutput(uri: string, limit = 50): Promise<OutputPreview> {
  if (!existsSync(uri)) throw new Error(`the output file ${uri} is gone (workspace retention?): rerun the block`);
  const bytes = (await stat(uri)).size;
  if (uri.endsWith('.arrow')) return previewArrow(uri, limit, bytes);
  if (bytes > JSON_PREVIEW_MAX)
    return { format: 'json', columns: [], rows: [], totalRows: null, bytes, value: `(${bytes} bytes: too large to preview)` };
  const value = JSON.parse(await readFile(uri, 'utf8')) as unknown;
  if (Array.isArray(value) && value.every((r) => r !== null && typeof r === 'object' && !Array.isArray(r))) {
    const rows = value.slice(0, limit) as Record<string, unknown>[];
    const names = [...new Set(rows.flatMap((r) => Object.keys(r)))];
    return {
      format: 'json',
      columns: names.map((name) => ({ name, type: jsonType(rows.map((r) => r[name])) })),
      rows,
      totalRows: value.length,
      bytes,
    };
  }
  return { format: 'json', columns: [], rows: [], totalRows: null, bytes, value };
}

async function previewArrow(uri: string, limit: number, bytes: number): Promise<OutputPreview> {
  const stream = createReadStream(uri);
  try {
    const reader = await RecordBatchReader.from(stream);
    await reader.open();
    const columns = describeSchema(reader.schema);
    const rows: Record<string, unknown>[] = [];
    for await (const batch of reader) {
      for (let i = 0; i < batch.numRows && rows.length < limit; i++) {
        const row: Record<string, unknown> = {};
        for (const field of batch.schema.fields) row[field.name] = cellValue(field, batch.getChild(field.name)?.get(i));
        rows.push(row);
      }
      if (rows.length >= limit) break;
    }
    return { format: 'arrow', columns, rows, totalRows: null, bytes };
  } finally {
    stream.destroy();
  }
}

function describeSchema(schema: Schema): { name: string; type: string }[] {
  return schema.fields.map((f) => ({ name: f.name, type: `${String(f.type)}${f.nullable ? '' : ' not null'}` }));
}

/** Arrow hands timestamps and dates over as epoch milliseconds: the preview shows them as ISO text. */
function cellValue(field: Field, value: unknown): unknown {
  if ((DataType.isTimestamp(field.type) || DataType.isDate(field.type)) && typeof value === 'number') return new Date(value).toISOString();
  return jsonSafe(value);
}

/** Values the browser can show: bigints as strings, dates as ISO, nested vectors as arrays. */
function jsonSafe(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (value && typeof value === 'object' && 'toJSON' in value && typeof (value as { toJSON: unknown }).toJSON === 'function') {
    return jsonSafe((value as { toJSON(): unknown }).toJSON());
  }
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number | bigint>, (v) => jsonSafe(v));
  if (Array.isArray(value)) return value.map(jsonSafe);
  return value;
}

function jsonType(values: unknown[]): string {
  const types = new Set(values.filter((v) => v !== null && v !== undefined).map((v) => (Array.isArray(v) ? 'array' : typeof v)));
  return types.size === 0 ? 'null' : [...types].join(' | ');
}
