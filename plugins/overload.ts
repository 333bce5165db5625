import { monitorEventLoopDelay } from 'node:perf_hooks'
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import fp from 'fastify-plugin'
import { serviceUnavailable } from '../src/errors.js'

/** How often the event-loop delay is sampled. */
export const OVERLOAD_SAMPLE_MS = 250
/** The resolution of the delay histogram (its timer's period, subtracted from the mean as @fastify/under-pressure does). */
const RESOLUTION_MS = 10

declare module 'fastify' {
  interface FastifyInstance {
    /** Whether the last sample of the event loop's delay was past MAX_EVENT_LOOP_DELAY. */
    isOverloaded: () => boolean
  }
  interface FastifyContextConfig {
    /** false: this route is served even while the process sheds load (liveness). */
    shedLoad?: boolean
  }
}

// Load shedding: when the event loop's delay passes MAX_EVENT_LOOP_DELAY,
// requests get the 503 at once, before any work, until it falls back under
// (a stalled loop would make every request late, health checks included).
// The sampling is @fastify/under-pressure's (the mean of a 10 ms histogram
// over each 250 ms, less the resolution; no sample at all in a period means
// the loop was stalled the whole time). Its hook is not used: it reads
// `request.routeOptions`, a getter that builds and freezes an object, on every
// request. Here a request pays one comparison, and the route's config is read
// only while shedding.
export default fp(async app => {
  const { maxEventLoopDelay } = app.config
  if (maxEventLoopDelay === 0) return
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
  histogram.enable()
  let overloaded = false
  const sample = () => {
    const delay = Math.max(0, histogram.mean / 1e6 - RESOLUTION_MS)
    overloaded = Number.isNaN(delay) || delay > maxEventLoopDelay
    histogram.reset()
  }
  const timer = setInterval(sample, OVERLOAD_SAMPLE_MS).unref()
  app.addHook('onClose', async () => {
    clearInterval(timer)
    histogram.disable()
  })
  app.decorate('isOverloaded', () => overloaded)
  app.addHook('onRequest', (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) => {
    if (!overloaded || request.routeOptions.config.shedLoad === false) return done()
    done(serviceUnavailable(1))
  })
}, { name: 'tessera-overload', dependencies: ['tessera-config'] })
