import type { Config } from '../config.js'
import { withDatabase } from './context.js'
import { CommandFailed, type CommandIo } from './io.js'

// `npm run db:migrate`: applies the migrations in drizzle/ (the server also
// does at start-up), under the same advisory lock.
export async function migrateDatabase (argv: string[], io: CommandIo, config: Config): Promise<void> {
  if (argv.length > 0) throw new CommandFailed('usage: migrate')
  const kind = await withDatabase(config, async database => database.kind)
  io.stdout.write(`Migrations applied (${kind}).\n`)
}
