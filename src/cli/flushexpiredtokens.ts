import type { Config } from '../config.js'
import { pruneExpired } from '../sessions/prune.js'
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
  const { tokens, sessions, events } = await withDatabase(config, async database => await pruneExpired(database.db, now, retainedSince))
  io.stdout.write(`Deleted ${tokens} expired refresh token record${tokens === 1 ? '' : 's'}.\n`)
  io.stdout.write(`Deleted ${sessions} ended or expired session${sessions === 1 ? '' : 's'}.\n`)
  io.stdout.write(`Deleted ${events} security event${events === 1 ? '' : 's'} older than the retention.\n`)
}
