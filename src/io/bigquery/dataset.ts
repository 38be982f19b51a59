/**
 * Datasets are created on first use in GOOGLE_LOCATION. A dataset that
 * already exists elsewhere is an error up front: BigQuery would otherwise fail
 * each job with "Not found: Dataset … was not found in location …".
 */
import type { BigQuery } from '@google-cloud/bigquery';
import { ConfigError } from '../../errors.ts';
import { bigQueryError } from './errors.ts';
import { checkDataset } from './identifiers.ts';

export interface DatasetContext {
  readonly bigquery: BigQuery;
  readonly projectId: string;
  readonly location: string;
  /** io_config file and profile name, for the location error. */
  readonly file: string;
  readonly profile: string;
}

/** Makes sure `project.dataset` exists in the context's location (creating it when missing). */
export async function ensureDataset(ctx: DatasetContext, datasetId: string): Promise<void> {
  const dataset = ctx.bigquery.dataset(checkDataset(datasetId), { projectId: ctx.projectId, location: ctx.location });
  const target = `bigquery://${ctx.projectId}/${datasetId}`;
  let location: string | undefined;
  try {
    const [metadata] = await dataset.getMetadata();
    location = metadata.location;
  } catch (error) {
    if ((error as { code?: number }).code !== 404) throw bigQueryError(error, target, `read dataset ${datasetId}`);
    try {
      await dataset.create({ location: ctx.location });
      return;
    } catch (createError) {
      // Another run created it meanwhile: fine, check its location below.
      if ((createError as { code?: number }).code !== 409)
        throw bigQueryError(createError, target, `create dataset ${datasetId} in ${ctx.location}`);
      [{ location }] = await dataset.getMetadata();
    }
  }
  if (location && location.toLowerCase() !== ctx.location.toLowerCase()) {
    throw new ConfigError({
      file: ctx.file,
      key: `${ctx.profile}.GOOGLE_LOCATION`,
      message: `dataset ${ctx.projectId}.${datasetId} is in location ${location}, but GOOGLE_LOCATION is ${ctx.location}; BigQuery jobs cannot span locations`,
      hint: `set GOOGLE_LOCATION: ${location} in the ${ctx.profile} profile, or use a dataset in ${ctx.location}`,
    });
  }
}
