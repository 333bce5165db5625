import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { refuseOtherMethods } from '../plugins/method-not-allowed.js'
import { BEARER_AUTH } from '../plugins/swagger.js'
import { notFound, permissionDenied, PERMISSION_DENIED, userNotFound } from '../src/errors.js'
import { pageOf, userCursor } from '../src/pagination.js'
import { AdminCreateUserBody, AdminSetPasswordBody, AdminUpdateUserBody, AdminUser, AdminUserPage, UserListQuery, UserParams } from '../src/schemas/admin.js'
import { Detail, errorResponses } from '../src/schemas/errors.js'
import { Type } from '@sinclair/typebox'
import { AdminEventsQuery, EventPage } from '../src/schemas/events.js'
import { BadQuery, pageSize } from '../src/schemas/pagination.js'
import { NoContent } from '../src/schemas/sessions.js'
import { createUserAsAdmin, deleteUserAsAdmin, endUserSessionsAsAdmin, setPasswordAsAdmin, updateUserAsAdmin, type Actor } from '../src/users/admin.js'
import { findUserById, listUsers } from '../src/users/store.js'
import { adminUserView } from '../src/users/views.js'
import { eventPage } from './events.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The staff member calling an admin route. */
    actor: Actor | null
  }
}

const FORMS = ['application/json', 'application/x-www-form-urlencoded']
const tags = ['admin']
const FORBIDDEN = `The caller is not staff (\`is_staff\`), or a staff member who is not a superuser tried to change a superuser or \`is_superuser\`: \`{"detail":"${PERMISSION_DENIED}"}\`.`
const NoSuchUser = Type.Object(Detail.properties, { description: 'No user has that id.' })

const booleanOf = (text: 'true' | 'false' | undefined) => text === undefined ? undefined : text === 'true'

// The admin API, for staff users. Registered inside the scope that adds the
// authenticate hook (see app.ts); this scope adds the staff check, which reads
// the caller's flags from the database on every request (admin requests are
// few), so taking is_staff away is seen at once by every instance.
export default async function adminRoutes (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.decorateRequest('actor', null)
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const caller = await findUserById(app.accounts.db, request.auth!.userId)
    // Deleted since the access token was checked.
    if (caller === undefined) throw userNotFound()
    if (!caller.isStaff) throw permissionDenied()
    request.actor = { id: caller.id, isSuperuser: caller.isSuperuser }
  })

  const errors = (body: Parameters<typeof errorResponses>[0]['body'], notFoundToo = false) => ({
    ...errorResponses({ body, unauthorized: true, forbidden: FORBIDDEN }),
    ...(notFoundToo ? { 404: NoSuchUser } : {})
  })

  app.get('/api/admin/users/', {
    schema: {
      operationId: 'adminListUsers',
      summary: 'List users',
      description: 'Users by id, a page at a time (pass `next` back as `cursor`), filtered by part of the username or ' +
        'email (without regard to case), `is_active` and `is_staff`.',
      tags,
      security: BEARER_AUTH,
      querystring: UserListQuery,
      response: { 200: AdminUserPage, ...errorResponses({ body: null, unauthorized: true, forbidden: FORBIDDEN, badQuery: BadQuery }) }
    }
  }, async request => {
    const { username, email, is_active: isActive, is_staff: isStaff, cursor, limit } = request.query
    const after = cursor === undefined ? null : userCursor.decode(cursor)
    const size = pageSize(limit)
    const rows = await listUsers(app.accounts.db, { username, email, isActive: booleanOf(isActive), isStaff: booleanOf(isStaff) }, after, size)
    return pageOf(rows, size, user => userCursor.encode(user.id), adminUserView)
  })

  app.post('/api/admin/users/', {
    schema: {
      operationId: 'adminCreateUser',
      summary: 'Create a user',
      description: 'Creates a user, with the checks of registration (unique username, Django\'s password validators). ' +
        'Only a superuser may set `is_superuser`.',
      tags,
      security: BEARER_AUTH,
      consumes: FORMS,
      body: AdminCreateUserBody,
      response: { 201: AdminUser, ...errors(AdminCreateUserBody) }
    }
  }, async (request, reply) => {
    const actor = request.actor!
    const user = await createUserAsAdmin(app.accounts, actor, request.body)
    app.securityEvents.record({ type: 'user_created', userId: user.id, request, detail: { by: actor.id } })
    return reply.code(201).send(adminUserView(user))
  })
  refuseOtherMethods(app, '/api/admin/users/', ['GET', 'POST'])

  const id = (request: { params: { id: string } }) => {
    const value = Number(request.params.id)
    // Past PostgreSQL's integer: no such user.
    if (value > 2_147_483_647) throw notFound()
    return value
  }

  app.get('/api/admin/users/:id/', {
    schema: {
      operationId: 'adminGetUser',
      summary: 'Read a user',
      description: 'One user, with `is_active`; 404 when no user has that id.',
      tags,
      security: BEARER_AUTH,
      params: UserParams,
      response: { 200: AdminUser, ...errors(null, true) }
    }
  }, async request => {
    const user = await findUserById(app.accounts.db, id(request))
    if (user === undefined) throw notFound()
    return adminUserView(user)
  })

  app.patch('/api/admin/users/:id/', {
    schema: {
      operationId: 'adminUpdateUser',
      summary: 'Update a user',
      description: 'Changes the given fields. `is_active: false` ends every session of the user on every instance at ' +
        'once; `is_staff: false` takes the admin API away at once. Only a superuser may change `is_superuser` or a ' +
        'superuser\'s account.',
      tags,
      security: BEARER_AUTH,
      consumes: FORMS,
      params: UserParams,
      body: AdminUpdateUserBody,
      response: { 200: AdminUser, ...errors(AdminUpdateUserBody, true) }
    }
  }, async request => {
    const actor = request.actor!
    const { user, changed } = await updateUserAsAdmin(app.accounts, actor, id(request), request.body)
    const deactivated = changed.includes('is_active') && !user.isActive
    // A deactivation is its own event; the other changes (a reactivation included) are an update.
    const updated = deactivated ? changed.filter(field => field !== 'is_active') : changed
    if (updated.length > 0) app.securityEvents.record({ type: 'user_updated', userId: user.id, request, detail: { by: actor.id, fields: updated } })
    if (deactivated) app.securityEvents.record({ type: 'user_deactivated', userId: user.id, request, detail: { by: actor.id } })
    return adminUserView(user)
  })

  app.delete('/api/admin/users/:id/', {
    schema: {
      operationId: 'adminDeleteUser',
      summary: 'Delete a user',
      description: 'Deletes the user, their sessions and refresh tokens; their tokens are refused on every instance at ' +
        'once. Their security events stay.',
      tags,
      security: BEARER_AUTH,
      params: UserParams,
      response: { 204: NoContent, ...errors(null, true) }
    }
  }, async (request, reply) => {
    const actor = request.actor!
    const userId = id(request)
    await deleteUserAsAdmin(app.accounts, actor, userId)
    app.securityEvents.record({ type: 'user_deleted', userId, request, detail: { by: actor.id } })
    return reply.code(204).send(null)
  })
  refuseOtherMethods(app, '/api/admin/users/:id/', ['GET', 'PATCH', 'DELETE'])

  app.post('/api/admin/users/:id/password/', {
    schema: {
      operationId: 'adminSetPassword',
      summary: 'Set a user\'s password',
      description: 'Sets the password (Django\'s validators apply). Every session of the user ends on every instance at once.',
      tags,
      security: BEARER_AUTH,
      consumes: FORMS,
      params: UserParams,
      body: AdminSetPasswordBody,
      response: { 204: NoContent, ...errors(AdminSetPasswordBody, true) }
    }
  }, async (request, reply) => {
    const actor = request.actor!
    const userId = id(request)
    await setPasswordAsAdmin(app.accounts, actor, userId, request.body.password)
    app.securityEvents.record({ type: 'password_changed', userId, request, detail: { by: actor.id } })
    return reply.code(204).send(null)
  })
  refuseOtherMethods(app, '/api/admin/users/:id/password/', ['POST'])

  app.delete('/api/admin/users/:id/sessions/', {
    schema: {
      operationId: 'adminEndUserSessions',
      summary: 'End all sessions of a user',
      description: 'Ends every session of the user on every instance at once: their refresh tokens can no longer be ' +
        'refreshed and their access tokens are refused.',
      tags,
      security: BEARER_AUTH,
      params: UserParams,
      response: { 204: NoContent, ...errors(null, true) }
    }
  }, async (request, reply) => {
    const actor = request.actor!
    const userId = id(request)
    const ended = await endUserSessionsAsAdmin(app.accounts, actor, userId)
    app.securityEvents.record({ type: 'session_ended', userId, request, detail: { by: actor.id, sessions: ended } })
    return reply.code(204).send(null)
  })
  refuseOtherMethods(app, '/api/admin/users/:id/sessions/', ['DELETE'])

  app.get('/api/admin/events/', {
    schema: {
      operationId: 'adminListEvents',
      summary: 'The security event log',
      description: 'Every security event, newest first, a page at a time (pass `next` back as `cursor`), filtered ' +
        'by `user` (id) and `type`.',
      tags,
      security: BEARER_AUTH,
      querystring: AdminEventsQuery,
      response: { 200: EventPage, ...errorResponses({ body: null, unauthorized: true, forbidden: FORBIDDEN, badQuery: BadQuery }) }
    }
  }, async request => {
    const { user, type, cursor, limit } = request.query
    return await eventPage(app, { userId: user === undefined ? undefined : Number(user), type }, cursor, limit)
  })
  refuseOtherMethods(app, '/api/admin/events/', ['GET'])
}
