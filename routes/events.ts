import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { refuseOtherMethods } from '../plugins/method-not-allowed.js'
import { BEARER_AUTH } from '../plugins/swagger.js'
import type { SecurityEventRow } from '../src/db/schema.js'
import { listSecurityEvents, type EventFilter } from '../src/events/store.js'
import { eventCursor, pageOf } from '../src/pagination.js'
import { errorResponses } from '../src/schemas/errors.js'
import { EventPage, OwnEventsQuery } from '../src/schemas/events.js'
import { BadQuery, pageSize } from '../src/schemas/pagination.js'

export function eventView (row: SecurityEventRow) {
  return {
    id: row.id,
    type: row.type,
    at: row.at.toISOString(),
    user_id: row.userId,
    session_id: row.sessionId,
    ip: row.ip,
    user_agent: row.userAgent,
    detail: row.detail
  }
}

/** A page of the event log, newest first; what this instance still holds in memory is written first. */
export async function eventPage (app: FastifyInstance, filter: EventFilter, cursor: string | undefined, limit: string | undefined) {
  const after = cursor === undefined ? null : eventCursor.decode(cursor)
  const size = pageSize(limit)
  await app.securityEvents.flush()
  const rows = await listSecurityEvents(app.database.db, filter, after, size)
  return pageOf(rows, size, row => eventCursor.encode(row.at, row.id), eventView)
}

// The caller's own security events. Registered inside the scope that adds the
// authenticate hook (see app.ts).
export default async function eventRoutes (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.get('/api/users/me/events/', {
    schema: {
      operationId: 'listOwnEvents',
      summary: 'The caller\'s security events',
      description: 'The security events about the user the access token belongs to (logins, refreshes, logouts, ' +
        'password changes, changes staff made…), newest first, a page at a time: pass `next` back as `cursor`.',
      tags: ['users'],
      security: BEARER_AUTH,
      querystring: OwnEventsQuery,
      response: { 200: EventPage, ...errorResponses({ body: null, unauthorized: true, badQuery: BadQuery }) }
    }
  }, async request => await eventPage(app, { userId: request.auth!.userId }, request.query.cursor, request.query.limit))
  refuseOtherMethods(app, '/api/users/me/events/', ['GET'])
}
