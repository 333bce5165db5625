import fp from 'fastify-plugin'
import { deleteExpiredRefreshTokens } from '../src/tokens/refresh-token-store.js'
import { inProcessChannel, postgresChannel } from '../src/sessions/channel.js'
import { RevocationState } from '../src/sessions/revocation.js'
import { epochSeconds, parseRevocationMessage, reloadRevocationState, type SessionDeps } from '../src/sessions/service.js'
import { deleteDeadSessions } from '../src/sessions/store.js'
import { deleteSecurityEventsBefore } from '../src/events/store.js'

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
  // Each prune is scheduled when the one before has finished: a large backlog, deleted in paced batches
  // (src/db/batches.ts), may take longer than the interval, and two prunes would only compete.
  let prune: NodeJS.Timeout | undefined
  let closed = false
  const schedulePrune = () => {
    /* c8 ignore next: only when the app closed while a prune ran */
    if (closed) return
    prune = setTimeout(pruneNow, config.sessionPruneInterval * 1000).unref()
  }
  function pruneNow () {
    const now = new Date()
    const retainedSince = new Date(now.getTime() - config.securityEventRetention * 1000)
    Promise.all([deleteDeadSessions(database.db, now), deleteExpiredRefreshTokens(database.db, now), deleteSecurityEventsBefore(database.db, retainedSince)])
      .then(([sessions, tokens, events]) => app.log.debug({ sessions, tokens, events }, 'pruned dead sessions, expired tokens and old security events'))
      /* c8 ignore next: a failing database; the next prune tries again */
      .catch((err: unknown) => app.log.error({ err }, 'pruning failed'))
      .finally(schedulePrune)
  }
  if (config.sessionPruneInterval > 0) schedulePrune()
  app.addHook('onClose', async () => {
    closed = true
    clearInterval(sweep)
    clearTimeout(prune)
    await channel.close()
  })
}, { name: 'tessera-sessions', dependencies: ['tessera-config', 'tessera-db'] })
