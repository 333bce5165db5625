import type { Config } from './config.js'

/** The origins allowed to call the API from a browser (CORS_ORIGINS), without trailing slashes. */
export function allowedOrigins (config: Pick<Config, 'corsOrigins'>): string[] {
  return (config.corsOrigins ?? '').split(',').map(origin => origin.trim().replace(/\/+$/, '')).filter(origin => origin !== '')
}
