import fp from 'fastify-plugin'
import { inProcessChannel, postgresChannel } from '../src/sessions/channel.js'
import { RevocationState } from '../src/sessions/revocation.js'
import { epochSeconds, parseRevocationMessage, reloadRevocationState, type SessionDeps } from '../src/sessions/service.js'
import { PeriodicPrune, pruneExpired } from '../src/sessions/prune.js'

declare module 'fastify' {
  interface FastifyInstance {
    sessions: SessionDeps
  }
}

// The revocation state of this instance: loaded at start-up, followed through
// LISTEN/NOTIFY (PGlite: in-process), reloaded after a lost connection.
export default fp(async app => {
  const { config, database } = app
  const state = new RevocationState(epochSeconds)
  const channel = database.kind === 'postgres'
    /* c8 ignore next: the PostgreSQL lane, as postgresChannel */
    ? postgresChannel(config.databaseUrl!)
    : inProcessChannel()
  const deps: SessionDeps = { db: database.db, channel, state, accessTokenLifetime: config.accessTokenLifetime, now: epochSeconds }
  app.decorate('sessions', deps)

  let lost = false
  await channel.listen({
    onMessage (payload) {
      const message = parseRevocationMessage(payload)
      if (message === null) return app.log.warn('ignored a revocation message that is not JSON')
      state.apply(message)
    },
    async onListening () {
      const ended = await reloadRevocationState(deps)
      /* c8 ignore next: after a lost PostgreSQL connection only (the PostgreSQL lane, test/instances.test.ts) */
      if (lost) app.log.info({ ended }, 'revocation channel back: state resynchronised, trusted again')
      else app.log.debug({ ended }, 'revocation state loaded')
      lost = false
    },
    /* c8 ignore start: only a lost PostgreSQL connection calls this (the PostgreSQL lane) */
    onLost () {
      lost = true
      state.distrust()
      app.log.warn('revocation channel lost: checking sessions in the database until it is back')
    }
    /* c8 ignore stop */
  })

  // Entries whose access tokens have all expired leave memory.
  const sweep = setInterval(() => state.prune(), Math.min(config.accessTokenLifetime, 60) * 1000).unref()
  // Dead sessions, expired tokens and old events, every SESSION_PRUNE_INTERVAL (src/sessions/prune.ts).
  const pruning = new PeriodicPrune(async signal => {
    const now = new Date()
    return await pruneExpired(database.db, now, new Date(now.getTime() - config.securityEventRetention * 1000), signal)
  }, config.sessionPruneInterval * 1000, app.log)
  if (config.sessionPruneInterval > 0) pruning.start()
  app.addHook('onClose', async () => {
    clearInterval(sweep)
    // Before the database closes (its onClose runs after this plugin's): a run in progress ends after its batch.
    await pruning.close()
    await channel.close()
  })
}, { name: 'tessera-sessions', dependencies: ['tessera-config', 'tessera-db'] })
