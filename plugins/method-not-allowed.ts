import type { FastifyInstance } from 'fastify'
import type {} from '@fastify/swagger'
import { methodNotAllowed } from '../src/errors.js'

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH'] as const

/**
 * Answers the other methods on a path with DRF's 405. Registered in the same
 * scope as the path's routes, so a protected path checks the token first.
 * OPTIONS is left to CORS preflights.
 */
export function refuseOtherMethods (app: FastifyInstance, url: string, allowed: Array<typeof METHODS[number]>): void {
  const served = allowed.includes('GET') ? [...allowed, 'HEAD'] : allowed
  const allow = served.join(', ')
  app.route({
    method: METHODS.filter(method => !served.includes(method)),
    url,
    schema: { hide: true },
    handler: async request => { throw methodNotAllowed(request.method, allow) }
  })
}
