import underPressure from '@fastify/under-pressure'
import fp from 'fastify-plugin'
import { ApiError, serviceUnavailable } from '../src/errors.js'

/** How often the event-loop delay is sampled. */
export const OVERLOAD_SAMPLE_MS = 250

/** The 503 of an overloaded process; under-pressure makes one per refusal with `new`. */
class Overloaded extends ApiError {
  constructor () {
    const { statusCode, body, headers } = serviceUnavailable(1)
    super(statusCode, body, headers)
  }
}

// Load shedding: when the event loop's delay passes MAX_EVENT_LOOP_DELAY,
// requests get the 503 at once, before any work, until it falls back under
// (a stalled loop would make every request late, health checks included).
// Per request this is one comparison with the last sample.
export default fp(async app => {
  const { maxEventLoopDelay } = app.config
  if (maxEventLoopDelay === 0) return
  await app.register(underPressure, {
    maxEventLoopDelay,
    sampleInterval: OVERLOAD_SAMPLE_MS,
    customError: Overloaded
  })
}, { name: 'tessera-overload', dependencies: ['tessera-config'] })
