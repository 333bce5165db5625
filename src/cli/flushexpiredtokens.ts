import type { Config } from '../config.js'
import { deleteSecurityEventsBefore } from '../events/store.js'
import { deleteDeadSessions } from '../sessions/store.js'
import { deleteExpiredRefreshTokens } from '../tokens/refresh-token-store.js'
import { withDatabase } from './context.js'
import { CommandFailed, type CommandIo } from './io.js'

// simplejwt's `manage.py flushexpiredtokens`: removes the records of refresh
// tokens that have expired, then the sessions that can open nothing any more
// (ended or past their absolute end, every token expired), and the security
// events older than SECURITY_EVENT_RETENTION, in small batches.
export async function flushExpiredTokens (argv: string[], io: CommandIo, config: Config): Promise<void> {
  if (argv.length > 0) throw new CommandFailed('usage: flushexpiredtokens')
  const now = new Date()
  const retainedSince = new Date(now.getTime() - config.securityEventRetention * 1000)
  const [deleted, sessions, events] = await withDatabase(config, async database =>
    [await deleteExpiredRefreshTokens(database.db, now), await deleteDeadSessions(database.db, now), await deleteSecurityEventsBefore(database.db, retainedSince)])
  io.stdout.write(`Deleted ${deleted} expired refresh token record${deleted === 1 ? '' : 's'}.\n`)
  io.stdout.write(`Deleted ${sessions} ended or expired session${sessions === 1 ? '' : 's'}.\n`)
  io.stdout.write(`Deleted ${events} security event${events === 1 ? '' : 's'} older than the retention.\n`)
}
