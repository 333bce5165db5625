import type { FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { badAuthorizationHeader, notAuthenticated } from '../src/errors.js'
import { assertSessionLive, assertUserCanAuthenticate, authenticateAccessToken } from '../src/tokens/service.js'

export interface Authenticated {
  userId: number
  payload: Record<string, unknown>
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The onRequest hook of protected scopes. */
    authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<void>
  }
  interface FastifyRequest {
    auth: Authenticated | null
  }
}

// simplejwt splits the header on ASCII whitespace (bytes.split()).
const WHITESPACE = /[ \t\n\r\v\f]+/

/** The raw token of `Authorization: Bearer <token>`, as simplejwt's JWTAuthentication reads it. */
export function bearerToken (header: string | undefined): string {
  const parts = (header ?? '').trim().split(WHITESPACE)
  // No header, an empty one, another scheme, or "bearer" in lower case: not provided.
  if (parts[0] !== 'Bearer') throw notAuthenticated()
  if (parts.length !== 2) throw badAuthorizationHeader()
  return parts[1]!
}

export default fp(async app => {
  app.decorateRequest('auth', null)
  app.decorate('authenticate', async (request: FastifyRequest) => {
    const auth = authenticateAccessToken(app.tokens, bearerToken(request.headers.authorization))
    await assertUserCanAuthenticate(app.userStatus, auth.userId)
    await assertSessionLive(app.tokens, auth.payload)
    request.auth = auth
  })
}, { name: 'tessera-authenticate', dependencies: ['tessera-jwt', 'tessera-users'] })
