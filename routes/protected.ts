import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { refuseOtherMethods } from '../plugins/method-not-allowed.js'
import { BEARER_AUTH } from '../plugins/swagger.js'
import { userNotFound } from '../src/errors.js'
import { errorResponses } from '../src/schemas/errors.js'
import { CurrentUser } from '../src/schemas/users.js'
import { findUserById } from '../src/users/store.js'
import { currentUserView } from '../src/users/views.js'

const ProtectedContent = Type.Object({ content: Type.String({ examples: ['This view is protected'] }) }, { description: 'The token was valid.' })
const PrivateMessage = Type.Object({ message: Type.String({ examples: ['Access Granted!'] }) }, { description: 'The token was valid.' })
const errors = errorResponses({ body: null, unauthorized: true })
// The bodies of the two example routes, answered by plain functions: no promise per request.
const PROTECTED_CONTENT = Object.freeze({ content: 'This view is protected' })
const PRIVATE_MESSAGE = Object.freeze({ message: 'Access Granted!' })

// Registered inside the scope that adds the authenticate hook (see app.ts).
export default async function protectedRoutes (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.get('/protected/', {
    schema: {
      operationId: 'getProtected',
      summary: 'An example protected route',
      description: 'Answers when the request carries a valid access token.',
      tags: ['protected'],
      security: BEARER_AUTH,
      response: { 200: ProtectedContent, ...errors }
    }
  }, () => PROTECTED_CONTENT)
  refuseOtherMethods(app, '/protected/', ['GET'])

  app.get('/private/', {
    schema: {
      operationId: 'getPrivate',
      summary: 'Another example protected route',
      description: 'Answers when the request carries a valid access token.',
      tags: ['protected'],
      security: BEARER_AUTH,
      response: { 200: PrivateMessage, ...errors }
    }
  }, () => PRIVATE_MESSAGE)
  refuseOtherMethods(app, '/private/', ['GET'])

  app.get('/api/users/me/', {
    schema: {
      operationId: 'getCurrentUser',
      summary: 'The current user',
      description: 'The user the access token belongs to. The password hash never leaves the server.',
      tags: ['users'],
      security: BEARER_AUTH,
      response: { 200: CurrentUser, ...errors }
    }
  }, async request => {
    const user = await findUserById(app.accounts.db, request.auth!.userId)
    // Deleted between the hook's check and this query.
    if (user === undefined) throw userNotFound()
    return currentUserView(user)
  })
  refuseOtherMethods(app, '/api/users/me/', ['GET'])
}
