// drizzle wraps driver errors (DrizzleQueryError) and keeps the driver's as
// `cause`; postgres.js and PGlite both carry PostgreSQL's SQLSTATE as `code`.
export function sqlState (error: unknown): string | undefined {
  for (let e = error as { code?: unknown, cause?: unknown } | undefined; e !== undefined && e !== null; e = e.cause as typeof e) {
    if (typeof e.code === 'string') return e.code
  }
  return undefined
}

export const UNIQUE_VIOLATION = '23505'
/** deadlock_detected: PostgreSQL cancelled this transaction so that another could finish. */
export const DEADLOCK_DETECTED = '40P01'

/**
 * Runs `work` again (up to `attempts` times in all) when PostgreSQL cancels it
 * for a deadlock. A refresh locks its token, then the user and the session; a
 * logout locks the session, then its tokens: the two racing on one session can
 * each wait for the other, and PostgreSQL cancels one after deadlock_timeout.
 * The cancelled one wrote nothing (a statement, or a transaction, is all or
 * nothing), and once the other has finished it goes through.
 */
export async function retryOnDeadlock<T> (work: () => Promise<T>, attempts = 3): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if (attempts <= 1 || sqlState(error) !== DEADLOCK_DETECTED) throw error
    return await retryOnDeadlock(work, attempts - 1)
  }
}

// The database cannot be reached, or is going away: the request may succeed
// later, so it gets a 503 rather than a 500. Node's socket errors and
// postgres.js's own codes (not CONNECTION_ENDED or _DESTROYED: those say this
// process ended its pool, which only a bug would query after); SQLSTATE class 08 (connection exception), 57P01-3
// (shutting down, crashed, starting up), 53300 (too many connections) and
// 57014 (statement_timeout: DATABASE_TIMEOUT passed).
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH',
  'CONNECT_TIMEOUT', 'CONNECTION_CLOSED',
  '57P01', '57P02', '57P03', '53300', '57014'
])

export function isDatabaseUnavailable (error: unknown): boolean {
  for (let e = error as { code?: unknown, cause?: unknown, errors?: unknown } | undefined; e !== undefined && e !== null; e = e.cause as typeof e) {
    if (typeof e.code === 'string' && (UNAVAILABLE_CODES.has(e.code) || e.code.startsWith('08'))) return true
    // Node's connect to a host name with several addresses fails with an AggregateError of them.
    if (Array.isArray(e.errors) && e.errors.some(isDatabaseUnavailable)) return true
  }
  return false
}
