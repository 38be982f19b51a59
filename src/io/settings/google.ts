import type { IoProfile } from '../../config/io-profile.ts';

/** The GOOGLE_* keys the GCS and BigQuery connectors share. */
export interface GoogleSettings {
  /** GOOGLE_PROJECT_ID; unset means the credentials' project. */
  readonly projectId?: string;
  /** GOOGLE_SERVICE_ACC_KEY_FILEPATH resolved against the project; unset means Application Default Credentials. */
  readonly keyFilename?: string;
  /** GOOGLE_LOCATION, BigQuery's location for datasets and jobs. */
  readonly location: string;
  readonly profile: string;
  readonly file: string;
}

export const GOOGLE_DEFAULTS = { location: 'US' } as const;

export function googleSettings(profile: IoProfile): GoogleSettings {
  return Object.freeze({
    projectId: profile.get('GOOGLE_PROJECT_ID'),
    keyFilename: profile.has('GOOGLE_SERVICE_ACC_KEY_FILEPATH') ? profile.path('GOOGLE_SERVICE_ACC_KEY_FILEPATH', '') : undefined,
    location: profile.get('GOOGLE_LOCATION') ?? GOOGLE_DEFAULTS.location,
    profile: profile.name,
    file: profile.file,
  });
}
