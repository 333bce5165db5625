import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import authenticate from '../plugins/authenticate.js'
import configPlugin from '../plugins/config.js'
import content, { plainJsonContentType, requireJsonAccept } from '../plugins/content.js'
import cors from '../plugins/cors.js'
import db from '../plugins/db.js'
import errors, { clientErrorHandler, frameworkErrors } from '../plugins/errors.js'
import overload from '../plugins/overload.js'
import securityHeaders from '../plugins/security-headers.js'
import throttle from '../plugins/throttle.js'
import healthRoutes from '../routes/health.js'
import jwt from '../plugins/jwt.js'
import legacyJwt from '../plugins/legacy-jwt.js'
import swagger from '../plugins/swagger.js'
import users from '../plugins/users.js'
import securityEvents from '../plugins/security-events.js'
import cookies from '../plugins/cookies.js'
import adminRoutes from '../routes/admin.js'
import eventRoutes from '../routes/events.js'
import jwksRoutes from '../routes/jwks.js'
import sessions from '../plugins/sessions.js'
import protectedRoutes from '../routes/protected.js'
import registerRoutes from '../routes/register.js'
import sessionRoutes from '../routes/sessions.js'
import tokenRoutes from '../routes/tokens.js'
import type { Config } from './config.js'
import { lazyChildLoggerFactory, RequestLogController } from './request-logger.js'

// Auth bodies are a few hundred bytes; this leaves room and refuses floods.
export const BODY_LIMIT = 16 * 1024
/** A request must arrive whole within this (slow-loris clients hold sockets otherwise). */
export const REQUEST_TIMEOUT_MS = 30_000

/** Fastify's trustProxy from TRUST_PROXY: whom to believe about the client's address (X-Forwarded-For). */
export function trustProxyOption (trustProxy: string | undefined): boolean | string | ((address: string, hop: number) => boolean) {
  if (trustProxy === undefined || trustProxy === 'false') return false
  if (trustProxy === 'true') return true
  if (/^\d+$/.test(trustProxy)) {
    // A hop count: the client is that many addresses back along X-Forwarded-For.
    const hops = Number(trustProxy)
    return (_address, hop) => hop < hops
  }
  return trustProxy.split(',').map(entry => entry.trim()).join(',')
}

/** Paths that must never reach a log line in clear. */
const SECRET_KEYS = ['password', 'old_password', 'new_password', 'token', 'refresh', 'access', 'authorization', 'cookie']
export const REDACTED = [
  'req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]',
  ...SECRET_KEYS, ...SECRET_KEYS.map(key => `*.${key}`)
]

/** Pretty lines for a person at a terminal, JSON lines for everything else. */
export function loggerFor (isTerminal: boolean): FastifyServerOptions['logger'] {
  return isTerminal ? { transport: { target: 'pino-pretty', options: { colorize: true } } } : true
}

export interface AppOptions {
  /** Fastify's logger option; the level comes from the config. */
  logger?: FastifyServerOptions['logger']
}

/** The app, with every plugin and route registered, not listening. */
export async function buildApp (config: Config, options: AppOptions = {}): Promise<FastifyInstance> {
  const logger = options.logger === false
    ? false
    : { level: config.logLevel, redact: REDACTED, ...(typeof options.logger === 'object' ? options.logger : {}) }
  const app = Fastify({
    logger,
    // A request's child logger is made only when it writes a line (src/request-logger.ts).
    // Neither are the lines of every request built at levels that drop them.
    ...(logger === false ? {} : { childLoggerFactory: lazyChildLoggerFactory, logController: new RequestLogController(logger.level) }),
    bodyLimit: BODY_LIMIT,
    routerOptions: { ignoreTrailingSlash: true },
    requestTimeout: REQUEST_TIMEOUT_MS,
    trustProxy: trustProxyOption(config.trustProxy),
    clientErrorHandler,
    frameworkErrors,
    // While shutting down, a request arriving on an open keep-alive connection
    // is still served (with Connection: close), not refused with Fastify's own 503.
    return503OnClosing: false
  })

  await app.register(configPlugin, { config })
  await app.register(securityHeaders)
  await app.register(cors)
  await app.register(db)
  await app.register(securityEvents)
  await app.register(sessions)
  await app.register(users)
  // After the database opens: PGlite's start-up stalls the loop once, which is not overload.
  await app.register(overload)
  await app.register(throttle)
  await app.register(jwt)
  await app.register(legacyJwt)
  await app.register(authenticate)
  await app.register(content)
  await app.register(errors)
  await app.register(swagger)
  await app.register(cookies)

  await app.register(async api => {
    api.addHook('onRequest', requireJsonAccept)
    api.addHook('onSend', plainJsonContentType)
    await api.register(tokenRoutes)
    await api.register(registerRoutes)
    await api.register(jwksRoutes)
    await api.register(healthRoutes)
    await api.register(async scope => {
      scope.addHook('onRequest', scope.authenticate)
      await scope.register(protectedRoutes)
      await scope.register(sessionRoutes)
      await scope.register(eventRoutes)
      await scope.register(adminRoutes)
    })
  })

  await app.ready()
  return app
}
