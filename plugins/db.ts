import fp from 'fastify-plugin'
import { createDb, type Database } from '../src/db/index.js'

declare module 'fastify' {
  interface FastifyInstance {
    database: Database
  }
}

// Opens the database of the configuration (PGlite or PostgreSQL), applies the
// migrations, and closes it when the app closes.
export default fp(async app => {
  const database = createDb(app.config)
  app.addHook('onClose', async () => await database.close())
  await database.migrate()
  app.log.debug({ kind: database.kind }, 'database ready')
  app.decorate('database', database)
}, { name: 'tessera-db', dependencies: ['tessera-config'] })
