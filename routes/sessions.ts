import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { refuseOtherMethods } from '../plugins/method-not-allowed.js'
import { BEARER_AUTH } from '../plugins/swagger.js'
import { notFound } from '../src/errors.js'
import { Detail, errorResponses } from '../src/schemas/errors.js'
import { LogoutBody, NoContent, PasswordChangeBody, SessionList, SessionParams } from '../src/schemas/sessions.js'
import { endOwnSession, logout } from '../src/sessions/service.js'
import { listLiveSessions } from '../src/sessions/store.js'
import { sessionIdOf } from '../src/tokens/service.js'
import { changePassword } from '../src/users/accounts.js'

const FORMS = ['application/json', 'application/x-www-form-urlencoded']
const NotFound = Type.Object(Detail.properties, { description: 'No live session of yours has that id (someone else\'s included).' })

// Sessions, logout and password change. Registered inside the scope that adds
// the authenticate hook (see app.ts): every route here needs an access token.
export default async function sessionRoutes (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.post('/api/token/logout/', {
    schema: {
      operationId: 'logout',
      summary: 'Log out: end sessions',
      description: 'Ends sessions of the user the access token belongs to, on every instance within a second: ' +
        'their refresh tokens can no longer be refreshed and their access tokens are refused. `scope` is `local` ' +
        '(the default: this session), `others` (every other session) or `global` (all sessions).',
      tags: ['sessions'],
      security: BEARER_AUTH,
      consumes: FORMS,
      body: LogoutBody,
      response: { 204: NoContent, ...errorResponses({ body: LogoutBody, unauthorized: true }) }
    }
  }, async (request, reply) => {
    const { userId, payload } = request.auth!
    await logout(app.sessions, userId, sessionIdOf(payload), request.body.scope ?? 'local')
    return reply.code(204).send(null)
  })
  refuseOtherMethods(app, '/api/token/logout/', ['POST'])

  app.get('/api/sessions/', {
    schema: {
      operationId: 'listSessions',
      summary: 'The caller\'s sessions',
      description: 'The live sessions of the user the access token belongs to (neither ended nor past their ' +
        'absolute end), the most recently used first; `current` marks the one of this access token.',
      tags: ['sessions'],
      security: BEARER_AUTH,
      response: { 200: SessionList, ...errorResponses({ body: null, unauthorized: true }) }
    }
  }, async request => {
    const { userId, payload } = request.auth!
    const current = sessionIdOf(payload)
    const live = await listLiveSessions(app.sessions.db, userId, new Date())
    return live.map(session => ({
      id: session.id,
      created: session.createdAt.toISOString(),
      last_used: session.lastUsedAt.toISOString(),
      expires: session.absoluteExpiresAt.toISOString(),
      user_agent: session.userAgent,
      ip: session.ip,
      current: session.id === current
    }))
  })
  refuseOtherMethods(app, '/api/sessions/', ['GET'])

  app.delete('/api/sessions/:id/', {
    schema: {
      operationId: 'endSession',
      summary: 'End one of the caller\'s sessions',
      description: 'Ends a live session of the user the access token belongs to, as a logout of it would. ' +
        'A session id that is not one of the caller\'s live sessions answers 404, someone else\'s included.',
      tags: ['sessions'],
      security: BEARER_AUTH,
      params: SessionParams,
      response: { 204: NoContent, 404: NotFound, ...errorResponses({ body: null, unauthorized: true }) }
    }
  }, async (request, reply) => {
    if (!await endOwnSession(app.sessions, request.auth!.userId, request.params.id)) throw notFound()
    return reply.code(204).send(null)
  })
  refuseOtherMethods(app, '/api/sessions/:id/', ['DELETE'])

  app.post('/api/users/me/password/', {
    schema: {
      operationId: 'changePassword',
      summary: 'Change the caller\'s password',
      description: 'Takes the old password and a new one (checked by Django\'s validators, as at registration). ' +
        'Every other session of the user ends; the current one lives.',
      tags: ['users'],
      security: BEARER_AUTH,
      consumes: FORMS,
      body: PasswordChangeBody,
      response: { 204: NoContent, ...errorResponses({ body: PasswordChangeBody, unauthorized: true, hashes: true }) }
    }
  }, async (request, reply) => {
    const { userId, payload } = request.auth!
    await changePassword(app.accounts, userId, request.body.old_password, request.body.new_password, sessionIdOf(payload))
    return reply.code(204).send(null)
  })
  refuseOtherMethods(app, '/api/users/me/password/', ['POST'])
}
