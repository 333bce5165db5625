import closeWithGrace from 'close-with-grace'
import { buildApp, loggerFor } from './app.js'
import { lowerHelperThreadPriority } from './auth/hash-threads.js'
import { ConfigError, loadConfig, type Config } from './config.js'

// The process entry point of `npm start`: the one place, with src/cli/main.ts,
// that reads the environment.

function configOrExit (): Config {
  try {
    return loadConfig(process.env)
  } catch (error) {
    // loadConfig throws ConfigError only: a message for the person starting it.
    process.stderr.write(`Tessera cannot start: bad configuration\n${(error as ConfigError).message}\n`)
    process.exit(1)
  }
}

const config = configOrExit()
// Before any other thread starts (a logger's worker would be one): see src/auth/hash-threads.ts.
const reniced = await lowerHelperThreadPriority(config.hashThreadNice)
const app = await buildApp(config, { logger: loggerFor(process.stdout.isTTY === true) })
if (reniced !== null) app.log.debug(reniced, 'threads that may hash run at a lower priority than the event loop')

closeWithGrace({ delay: 10_000 }, async ({ err, signal }) => {
  /* c8 ignore next: close-with-grace passes err only for an uncaught exception, which no test plants */
  if (err !== undefined) app.log.error({ err }, 'shutting down after an error')
  app.log.info({ signal }, 'shutting down')
  // A keep-alive connection whose request finishes from now on closes right
  // after its response (Node keeps it open otherwise, and close would wait).
  app.server.keepAliveTimeout = 1
  // Stops accepting, lets the requests in flight finish, then closes the database.
  await app.close()
  app.log.info('shut down: requests finished, database closed')
})

await app.listen({ port: config.port, host: config.host })
