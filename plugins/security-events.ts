import type { FastifyBaseLogger } from 'fastify'
import fp from 'fastify-plugin'
import { SecurityEventRecorder } from '../src/events/recorder.js'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * The security event log. `app.securityEvents.record({ type, userId, sessionId, request, detail })`
     * keeps an event and returns at once (it is written within a second, in a batch);
     * `flush()` writes what is pending (reads of the log call it first).
     */
    securityEvents: SecurityEventRecorder
  }
}

/**
 * How the recorder's problems are logged: a failed write is kept and retried (a database outage is a
 * passing condition: a warning); events dropped because the buffer was full are lost: an error.
 */
export const logRecorderProblem = (log: FastifyBaseLogger) => (message: string, err?: unknown): void => {
  if (err === undefined) log.error(message)
  else log.warn({ err }, message)
}

export default fp(async app => {
  const recorder = new SecurityEventRecorder(app.database.db, { onProblem: logRecorderProblem(app.log) })
  // Registered after the database: onClose hooks run in reverse order, so the last events are written before it closes.
  app.addHook('onClose', async () => await recorder.close())
  app.decorate('securityEvents', recorder)
}, { name: 'tessera-security-events', dependencies: ['tessera-config', 'tessera-db'] })
