import type { Config } from '../config.js'
import { deleteExpiredRefreshTokens } from '../tokens/refresh-token-store.js'
import { withDatabase } from './context.js'
import { CommandFailed, type CommandIo } from './io.js'

// simplejwt's `manage.py flushexpiredtokens`: removes the records of refresh
// tokens that have expired, in small batches.
export async function flushExpiredTokens (argv: string[], io: CommandIo, config: Config): Promise<void> {
  if (argv.length > 0) throw new CommandFailed('usage: flushexpiredtokens')
  const deleted = await withDatabase(config, async database => await deleteExpiredRefreshTokens(database.db, new Date()))
  io.stdout.write(`Deleted ${deleted} expired refresh token record${deleted === 1 ? '' : 's'}.\n`)
}
