import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { throttled } from '../src/errors.js'
import { memoryCounterStore, redisCounterStore, type CounterStore, type Hit } from '../src/throttle/counters.js'
import { addressKey, usernameKey } from '../src/throttle/keys.js'

/** The credential routes, each counted on its own: a refresh-heavy client does not lock its own logins out. */
export type ThrottledRoute = 'login' | 'register' | 'refresh'

declare module 'fastify' {
  interface FastifyInstance {
    /** The preValidation hook that throttles a credential route by client address and, with a username, by username. */
    throttle: (route: ThrottledRoute) => (request: FastifyRequest) => Promise<void>
  }
}

interface Limit { limit: number, windowMs: number }

/** A username from a body that may be anything (the schema has not checked it yet). */
function usernameOf (body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined
  const username = (body as Record<string, unknown>).username
  // A JSON number is taken as its string form (src/schemas/json-numbers.ts).
  return typeof username === 'string' || (typeof username === 'object' && username !== null) ? String(username) : undefined
}

/**
 * The one place a throttled request is refused: which counter ran out and for
 * how long, in the log and the security event log (never the username itself).
 */
function refuseThrottled (events: FastifyInstance['securityEvents'], request: FastifyRequest, route: ThrottledRoute, by: 'address' | 'username', hit: Hit): never {
  request.log.info({ route, by }, 'throttled')
  events.record({ type: 'throttled', request, detail: { route, by } })
  throw throttled(Math.max(1, Math.ceil(hit.resetMs / 1000)))
}

// OWASP's advice for credential guessing: count by client address and by
// account, in memory or (REDIS_URL) in Redis for every instance at once. The
// address is Fastify's request.ip, which follows X-Forwarded-For only as far
// as TRUST_PROXY allows.
export default fp(async app => {
  const { config } = app
  const store: CounterStore = config.redisUrl === undefined
    ? memoryCounterStore()
    : await redisCounterStore(config.redisUrl, config.redisKeyPrefix)
  app.addHook('onClose', async () => await store.close())
  await store.ready()
  const byAddress: Limit = { limit: config.throttleAddressLimit, windowMs: config.throttleAddressWindow * 1000 }
  const byUsername: Limit = { limit: config.throttleUsernameLimit, windowMs: config.throttleUsernameWindow * 1000 }

  async function count (request: FastifyRequest, key: string, { limit, windowMs }: Limit): Promise<Hit | null> {
    try {
      const hit = await store.hit(key, windowMs)
      return hit.count > limit ? hit : null
    } catch (err) {
      // Redis is unreachable: the request goes through rather than the service going down with it.
      request.log.warn({ err }, 'throttle counters unreachable: request not counted')
      return null
    }
  }

  app.decorate('throttle', (route: ThrottledRoute) => async (request: FastifyRequest) => {
    const username = route === 'refresh' ? undefined : usernameOf(request.body)
    // A limit of 0 is off: not even the key is made (hashing the username is most of a count's work).
    const [address, account] = await Promise.all([
      byAddress.limit === 0 ? null : count(request, `${route}:ip:${addressKey(request.ip)}`, byAddress),
      username === undefined || byUsername.limit === 0 ? null : count(request, `${route}:user:${usernameKey(username)}`, byUsername)
    ])
    if (address !== null) refuseThrottled(app.securityEvents, request, route, 'address', address)
    if (account !== null) refuseThrottled(app.securityEvents, request, route, 'username', account)
  })
}, { name: 'tessera-throttle', dependencies: ['tessera-config', 'tessera-security-events'] })
