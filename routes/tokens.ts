import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { refuseOtherMethods } from '../plugins/method-not-allowed.js'
import { noActiveAccount } from '../src/errors.js'
import { errorResponses } from '../src/schemas/errors.js'
import { Empty, RefreshBody, RefreshResponse, TokenObtainBody, TokenPair, VerifyBody } from '../src/schemas/tokens.js'
import { blacklistToken, issueTokenPair, refreshAccessToken, verifyAnyToken } from '../src/tokens/service.js'
import { attemptLogin, recordLogin } from '../src/users/accounts.js'
import type { FastifyRequest } from 'fastify'

const FORMS = ['application/json', 'application/x-www-form-urlencoded']
const tags = ['tokens']
const CSRF_FORBIDDEN = 'The refresh token came from the cookie (REFRESH_TOKEN_COOKIE) and the request failed the CSRF ' +
  'checks: the `X-Requested-With: XMLHttpRequest` header is required, and `Origin` must be one of CORS_ORIGINS.'
const COOKIE_NOTE = ' With REFRESH_TOKEN_COOKIE on, a body without `refresh` takes the refresh token from the HttpOnly ' +
  'cookie instead; such a request must send `X-Requested-With: XMLHttpRequest` and an allowed `Origin` (else 403).'

/**
 * The refresh token of a refresh or blacklist request: the body's, or (cookie
 * mode, no `refresh` in the body) the cookie's after the CSRF checks. A body
 * that fails its schema otherwise gets its 400, as DRF answers.
 */
function presentedRefreshToken (app: FastifyInstance, request: FastifyRequest): { token: string, fromCookie: boolean } {
  const body = request.body as { refresh?: unknown } | null | undefined
  if (body?.refresh === undefined) {
    const fromCookie = app.refreshCookie.read(request)
    if (fromCookie !== undefined) return { token: fromCookie, fromCookie: true }
  }
  if (request.validationError !== undefined) throw request.validationError
  // Past the schema: a non-blank string of at most 4,096 characters.
  return { token: body!.refresh as string, fromCookie: false }
}

// SimpleJWT's token views. Public: the Authorization header is ignored here.
export default async function tokenRoutes (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  const obtainSchema = (operationId: string, summary: string) => ({
    operationId,
    summary,
    description: 'Takes a username and password and returns an access and refresh JSON web token pair. ' +
      'An unknown user, a wrong password and an inactive account get the same 401.',
    tags,
    consumes: FORMS,
    body: TokenObtainBody,
    response: { 200: TokenPair, ...errorResponses({ body: TokenObtainBody, unauthorized: true, throttled: true }) }
  })

  for (const [url, operationId, summary] of [
    ['/api/token/', 'obtainTokenPair', 'Obtain a token pair'],
    ['/login/', 'login', 'Obtain a token pair (alias of /api/token/)']
  ] as const) {
    app.post(url, { schema: obtainSchema(operationId, summary), preValidation: app.throttle('login') }, async (request, reply) => {
      const { username, password } = request.body
      const attempt = await attemptLogin(app.accounts, username, password)
      if (!('user' in attempt)) {
        // An unknown username is kept (it tells of guessing); the password never is.
        const detail = attempt.reason === 'unknown_user' ? { reason: attempt.reason, username } : { reason: attempt.reason }
        app.securityEvents.record({ type: 'login_failed', userId: 'userId' in attempt ? attempt.userId : null, request, detail })
        throw noActiveAccount()
      }
      const { user } = attempt
      const { refresh, access, sessionId } = await issueTokenPair(app.tokens, user.id, { userAgent: request.headers['user-agent'], ip: request.ip })
      app.securityEvents.record({ type: 'login_succeeded', userId: user.id, sessionId, request })
      if (app.config.updateLastLogin) await recordLogin(app.accounts, user, new Date())
      app.refreshCookie.set(reply, refresh)
      return { refresh, access }
    })
    refuseOtherMethods(app, url, ['POST'])
  }

  app.post('/api/token/refresh/', {
    schema: {
      operationId: 'refreshToken',
      summary: 'Refresh an access token',
      description: 'Takes a refresh token and returns a new access token. While rotation is on (the default) it ' +
        'also returns a new refresh token, and the one presented is blacklisted: of concurrent refreshes with one ' +
        'token exactly one succeeds.' + COOKIE_NOTE + ' The new refresh token then goes to the cookie only, not to the body.',
      tags,
      consumes: FORMS,
      body: RefreshBody,
      response: { 200: RefreshResponse, ...errorResponses({ body: RefreshBody, unauthorized: true, throttled: true, forbidden: CSRF_FORBIDDEN }) }
    },
    preValidation: app.throttle('refresh'),
    attachValidation: true
  }, async (request, reply) => {
    const { token, fromCookie } = presentedRefreshToken(app, request)
    const refreshed = await refreshAccessToken(app.tokens, token, request)
    if (refreshed.refresh === undefined) return refreshed
    app.refreshCookie.set(reply, refreshed.refresh)
    // A page's script never sees a refresh token it did not send.
    return fromCookie ? { access: refreshed.access } : refreshed
  })
  refuseOtherMethods(app, '/api/token/refresh/', ['POST'])

  app.post('/api/token/verify/', {
    schema: {
      operationId: 'verifyToken',
      summary: 'Verify a token',
      description: 'Takes a token of any type and answers 200 with an empty object when it is valid. ' +
        'A blacklisted refresh token gets a 400.',
      tags,
      consumes: FORMS,
      body: VerifyBody,
      response: { 200: Empty, ...errorResponses({ body: VerifyBody, unauthorized: true }) }
    }
  }, async request => {
    await verifyAnyToken(app.tokens, request.body.token)
    return {}
  })
  refuseOtherMethods(app, '/api/token/verify/', ['POST'])

  app.post('/api/token/blacklist/', {
    schema: {
      operationId: 'blacklistToken',
      summary: 'Blacklist a refresh token (log out)',
      description: 'Takes a refresh token and blacklists it, so that it can no longer be refreshed.' + COOKIE_NOTE +
        ' The cookie is then cleared.',
      tags,
      consumes: FORMS,
      body: RefreshBody,
      response: { 200: Empty, ...errorResponses({ body: RefreshBody, unauthorized: true, forbidden: CSRF_FORBIDDEN }) }
    },
    attachValidation: true
  }, async (request, reply) => {
    const { token, fromCookie } = presentedRefreshToken(app, request)
    await blacklistToken(app.tokens, token, request)
    if (fromCookie) app.refreshCookie.clear(reply)
    return {}
  })
  refuseOtherMethods(app, '/api/token/blacklist/', ['POST'])
}
