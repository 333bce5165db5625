import type { Socket } from 'node:net'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { isDatabaseUnavailable } from '../src/db/errors.js'
import { SECURITY_HEADERS } from './security-headers.js'
import { ApiError, bodyTooLarge, headersTooLarge, malformedRequest, notFound, serverError, serviceUnavailable } from '../src/errors.js'

export const WWW_AUTHENTICATE = 'Bearer realm="api"'

/** Fastify's own errors as DRF's bodies; anything unexpected as a 500 that says nothing. */
function toApiError (error: FastifyError): ApiError {
  if (error instanceof ApiError) return error
  // Unsupported media types never get here: the catch-all parser answers them (plugins/content.ts).
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return bodyTooLarge()
  if (isDatabaseUnavailable(error)) return serviceUnavailable()
  const status = error.statusCode ?? 500
  return status >= 400 && status < 500 ? malformedRequest() : serverError()
}

/**
 * Node's HTTP parser refuses a request before Fastify sees it (headers over
 * 16 KiB, a malformed request line, a client too slow): answered here, with
 * the same JSON bodies as everything else, and the connection closed.
 */
export function clientErrorHandler (error: Error & { code?: string }, socket: Socket): void {
  // A reset connection has no one left to answer.
  /* c8 ignore next: a client resetting in the middle of its request, which Node reports here; no test can time it */
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  const [status, reason, body] = error.code === 'HPE_HEADER_OVERFLOW'
    ? [431, 'Request Header Fields Too Large', headersTooLarge().body]
    /* c8 ignore next 2: Node checks REQUEST_TIMEOUT every 30 s, too slow a wait for the suite */
    : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request Timeout', { detail: 'Request timeout.' }]
      : [400, 'Bad Request', malformedRequest().body]
  const text = JSON.stringify(body)
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`)
  }
  socket.destroy()
}

/**
 * Fastify's errors before routing: a path that is not valid percent-encoding
 * names nothing, so it is the 404 of an unknown path (as a path parameter that
 * does not fit its schema is), not Fastify's own body.
 */
export function frameworkErrors (_error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const { statusCode, body } = notFound()
  reply.code(statusCode).headers(SECURITY_HEADERS).header('content-type', 'application/json').serializer(JSON.stringify).send(body)
}

// The error handler must be set before the routes are registered: each route
// scope keeps the handler its parent had when the scope was made.
export default fp(async (app: FastifyInstance) => {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const apiError = toApiError(error)
    // An ApiError was meant (a 503 when the hash queue is full is an answer, not a failure). A 503 made
    // of a database error is a passing condition (the database unreachable), not a bug: a warning.
    if (!(error instanceof ApiError)) {
      if (apiError.statusCode === 503) request.log.warn({ err: error }, 'service unavailable: answered 503')
      else if (apiError.statusCode >= 500) request.log.error({ err: error }, 'request failed')
    }
    if (apiError.statusCode === 401) reply.header('www-authenticate', WWW_AUTHENTICATE)
    return reply.code(apiError.statusCode).headers(apiError.headers).header('content-type', 'application/json').send(apiError.body)
  })

  // Outside the API's scope, whose onSend hook drops the charset Fastify adds
  // to application/json: a serializer of the reply's own keeps it from adding one.
  app.setNotFoundHandler((_request, reply) => {
    const { statusCode, body } = notFound()
    return reply.code(statusCode).header('content-type', 'application/json').serializer(JSON.stringify).send(body)
  })
}, { name: 'tessera-errors' })
