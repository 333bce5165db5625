import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, onRequestHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import { badAuthorizationHeader, notAuthenticated } from '../src/errors.js'
import { assertSessionLive, assertStatusCanAuthenticate, assertUserCanAuthenticate, authenticateAccessToken, sessionKnownLive } from '../src/tokens/service.js'

export interface Authenticated {
  userId: number
  payload: Record<string, unknown>
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The onRequest hook of protected scopes. */
    authenticate: onRequestHookHandler
  }
  interface FastifyRequest {
    auth: Authenticated | null
  }
}

// simplejwt splits the header on ASCII whitespace (bytes.split()).
const WHITESPACE = /[ \t\n\r\v\f]+/
const BEARER = 'Bearer '
/** A token as clients send it: base64url segments and dots, no whitespace. */
const PLAIN_TOKEN = /^[\w.-]+$/

/** The raw token of `Authorization: Bearer <token>`, as simplejwt's JWTAuthentication reads it. */
export function bearerToken (header: string | undefined): string {
  // The usual header, "Bearer " and a token, is read without splitting it.
  if (header?.startsWith(BEARER) === true) {
    const token = header.slice(BEARER.length)
    if (PLAIN_TOKEN.test(token)) return token
  }
  const parts = (header ?? '').trim().split(WHITESPACE)
  // No header, an empty one, another scheme, or "bearer" in lower case: not provided.
  if (parts[0] !== 'Bearer') throw notAuthenticated()
  if (parts.length !== 2) throw badAuthorizationHeader()
  return parts[1]!
}

export default fp(async app => {
  const { tokens, userStatus, accounts: { cache } } = app
  app.decorateRequest('auth', null)

  // The token's signature and claims, then the user's state, then the
  // session's. Callback style: when both states are in memory (every request
  // but the first of a user or session after a change) no promise is made;
  // otherwise they are read as the async functions of src/tokens/service.ts read them.
  app.decorate('authenticate', function authenticate (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) {
    let auth: Authenticated
    try {
      auth = authenticateAccessToken(tokens, bearerToken(request.headers.authorization))
      const status = cache.get(auth.userId)
      if (status !== undefined) {
        assertStatusCanAuthenticate(status)
        if (sessionKnownLive(tokens, auth.payload)) {
          request.auth = auth
          done()
          return
        }
      }
    } catch (error) {
      done(error as Error)
      return
    }
    assertUserCanAuthenticate(userStatus, auth.userId)
      .then(async () => await assertSessionLive(tokens, auth.payload))
      .then(() => {
        request.auth = auth
        done()
      }, done)
  })
}, { name: 'tessera-authenticate', dependencies: ['tessera-jwt', 'tessera-users'] })
