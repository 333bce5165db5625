import { KeySetError } from '../auth/key-set.js'
import { ConfigError, loadConfig } from '../config.js'
import { DirectoryLockedError } from '../db/directory-lock.js'
import { createSuperuser } from './createsuperuser.js'
import { flushExpiredTokens } from './flushexpiredtokens.js'
import { importUsers } from './import-users.js'
import { CommandFailed, type CommandIo } from './io.js'
import { generateKey, retireKey, rotateKeys } from './keys.js'
import { migrateDatabase } from './migrate.js'
import { writeOpenApi } from './openapi.js'

// The entry point of the npm scripts that run commands, as manage.py does:
// `node dist/src/cli/main.js <command> [options]`.
const commands = {
  createsuperuser: createSuperuser,
  flushexpiredtokens: flushExpiredTokens,
  'keys:generate': generateKey,
  'keys:retire': retireKey,
  'keys:rotate': rotateKeys,
  migrate: migrateDatabase,
  openapi: writeOpenApi,
  'users:import': importUsers
}

export async function main (argv: string[], io: CommandIo, env: NodeJS.ProcessEnv): Promise<number> {
  const [name, ...rest] = argv
  const command = commands[name as keyof typeof commands]
  if (command === undefined) {
    io.stderr.write(`usage: main.js <${Object.keys(commands).join('|')}> [options]\n`)
    return 2
  }
  try {
    await command(rest, io, loadConfig(env))
    return 0
  } catch (error) {
    // Expected failures say what to do; anything else (a database that cannot
    // be reached, say) is reported by its message too: a command is not a server.
    const known = error instanceof CommandFailed || error instanceof ConfigError || error instanceof KeySetError || error instanceof DirectoryLockedError
    io.stderr.write(known ? `${(error as Error).message}\n` : `${name} failed: ${(error as Error).message}\n`)
    return 1
  }
}

process.exitCode = await main(process.argv.slice(2), process, process.env)
