// drizzle wraps driver errors (DrizzleQueryError) and keeps the driver's as
// `cause`; postgres.js and PGlite both carry PostgreSQL's SQLSTATE as `code`.
export function sqlState (error: unknown): string | undefined {
  for (let e = error as { code?: unknown, cause?: unknown } | undefined; e !== undefined && e !== null; e = e.cause as typeof e) {
    if (typeof e.code === 'string') return e.code
  }
  return undefined
}

export const UNIQUE_VIOLATION = '23505'
