/**
 * BigQuery names. Everything that ends up in SQL text is validated here and
 * quoted as one backtick-quoted path, `project.dataset.table`, which is what
 * makes project ids with dashes work (Mage bug #4182 built unquoted names).
 */
import { ConfigError } from '../../errors.ts';

/** A table's coordinates. */
export interface TableRef {
  readonly projectId: string;
  readonly datasetId: string;
  readonly tableId: string;
}

// Project ids: 6–30 chars, lowercase letters, digits and dashes, optionally
// prefixed by a domain (`example.com:my-project`).
const PROJECT = /^(?:[a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const DATASET = /^[A-Za-z0-9_]{1,1024}$/;
// Tables may use letters of any script, marks, digits, connectors, dashes and spaces.
const TABLE = /^[\p{L}\p{M}\p{N}\p{Pc}\p{Pd} ]{1,1024}$/u;

function check(kind: string, value: string, pattern: RegExp, hint: string): string {
  if (!pattern.test(value) || value.includes('`')) {
    throw new ConfigError({ file: 'BigQuery', key: JSON.stringify(value), message: `is not a valid ${kind} name`, hint });
  }
  return value;
}

export const checkProject = (id: string) =>
  check('project', id, PROJECT, 'project ids are 6–30 lowercase letters, digits and dashes, e.g. my-project-123');
export const checkDataset = (id: string) =>
  check('dataset', id, DATASET, 'dataset names use letters, digits and underscores only, e.g. ny_taxi');
export const checkTable = (id: string) =>
  check('table', id, TABLE, 'table names use letters, digits, underscores, dashes and spaces, e.g. yellow_taxi_data');

/** A validated reference. */
export function tableRef(projectId: string, datasetId: string, tableId: string): TableRef {
  return { projectId: checkProject(projectId), datasetId: checkDataset(datasetId), tableId: checkTable(tableId) };
}

/** `` `project.dataset.table` ``, safe to splice into GoogleSQL. */
export function quoteTable(ref: TableRef): string {
  return `\`${ref.projectId}.${ref.datasetId}.${ref.tableId}\``;
}

/** `bigquery://project/dataset.table`, for messages and ExportResult.target. */
export function describeTable(ref: TableRef): string {
  return `bigquery://${ref.projectId}/${ref.datasetId}.${ref.tableId}`;
}
