import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { refuseOtherMethods } from '../plugins/method-not-allowed.js'
import { noActiveAccount } from '../src/errors.js'
import { errorResponses } from '../src/schemas/errors.js'
import { Empty, RefreshBody, RefreshResponse, TokenObtainBody, TokenPair, VerifyBody } from '../src/schemas/tokens.js'
import { blacklistToken, issueTokenPair, refreshAccessToken, verifyAnyToken } from '../src/tokens/service.js'
import { authenticateUser, recordLogin } from '../src/users/accounts.js'

const FORMS = ['application/json', 'application/x-www-form-urlencoded']
const tags = ['tokens']

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
    response: { 200: TokenPair, ...errorResponses({ body: TokenObtainBody, unauthorized: true, hashes: true }) }
  })

  for (const [url, operationId, summary] of [
    ['/api/token/', 'obtainTokenPair', 'Obtain a token pair'],
    ['/login/', 'login', 'Obtain a token pair (alias of /api/token/)']
  ] as const) {
    app.post(url, { schema: obtainSchema(operationId, summary) }, async request => {
      const { username, password } = request.body
      const user = await authenticateUser(app.accounts, username, password)
      if (user === null) throw noActiveAccount()
      const pair = await issueTokenPair(app.tokens, user.id, { userAgent: request.headers['user-agent'], ip: request.ip })
      if (app.config.updateLastLogin) await recordLogin(app.accounts, user, new Date())
      return pair
    })
    refuseOtherMethods(app, url, ['POST'])
  }

  app.post('/api/token/refresh/', {
    schema: {
      operationId: 'refreshToken',
      summary: 'Refresh an access token',
      description: 'Takes a refresh token and returns a new access token. While rotation is on (the default) it ' +
        'also returns a new refresh token, and the one presented is blacklisted: of concurrent refreshes with one ' +
        'token exactly one succeeds.',
      tags,
      consumes: FORMS,
      body: RefreshBody,
      response: { 200: RefreshResponse, ...errorResponses({ body: RefreshBody, unauthorized: true }) }
    }
  }, async request => await refreshAccessToken(app.tokens, request.body.refresh))
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
      description: 'Takes a refresh token and blacklists it, so that it can no longer be refreshed.',
      tags,
      consumes: FORMS,
      body: RefreshBody,
      response: { 200: Empty, ...errorResponses({ body: RefreshBody, unauthorized: true }) }
    }
  }, async request => {
    await blacklistToken(app.tokens, request.body.refresh)
    return {}
  })
  refuseOtherMethods(app, '/api/token/blacklist/', ['POST'])
}
