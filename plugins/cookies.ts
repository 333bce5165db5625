import fastifyCookie from '@fastify/cookie'
import type { FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { csrfProblem } from '../src/auth/csrf.js'
import { csrfFailed } from '../src/errors.js'
import { allowedOrigins } from '../src/origins.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The refresh-token cookie of browser apps (REFRESH_TOKEN_COOKIE). */
    refreshCookie: RefreshCookie
  }
}

export interface RefreshCookie {
  enabled: boolean
  /** Sets the refresh token as the cookie (when enabled). */
  set: (reply: FastifyReply, token: string) => void
  /** Expires the cookie (when enabled). */
  clear: (reply: FastifyReply) => void
  /** The refresh token of the cookie, after the CSRF checks (throws 403); undefined without the cookie or when disabled. */
  read: (request: FastifyRequest) => string | undefined
}

/** The cookie goes to the token routes only: refresh, blacklist, logout (and obtain, verify). */
export const REFRESH_COOKIE_PATH = '/api/token/'

export default fp(async app => {
  const { config } = app
  const origins = allowedOrigins(config)
  const name = config.refreshTokenCookieName
  const attributes = {
    httpOnly: true,
    secure: true,
    sameSite: 'strict' as const,
    path: REFRESH_COOKIE_PATH,
    ...(config.refreshTokenCookieDomain === undefined ? {} : { domain: config.refreshTokenCookieDomain })
  }
  const enabled = config.refreshTokenCookie
  // Cookie parsing (an onRequest and an onSend hook on every route) only in cookie mode.
  if (enabled) await app.register(fastifyCookie)
  app.decorate('refreshCookie', {
    enabled,
    set (reply, token) {
      if (enabled) reply.setCookie(name, token, { ...attributes, maxAge: config.refreshTokenLifetime })
    },
    clear (reply) {
      if (enabled) reply.clearCookie(name, attributes)
    },
    read (request) {
      const token = enabled ? request.cookies[name] : undefined
      if (token === undefined || token === '') return undefined
      const problem = csrfProblem(request.headers, origins)
      if (problem !== null) throw csrfFailed(problem)
      return token
    }
  } satisfies RefreshCookie)
}, { name: 'tessera-cookies', dependencies: ['tessera-config'] })
