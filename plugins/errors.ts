import type { FastifyError, FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { ApiError, bodyTooLarge, malformedRequest, notFound, serverError } from '../src/errors.js'

export const WWW_AUTHENTICATE = 'Bearer realm="api"'

/** Fastify's own errors as DRF's bodies; anything unexpected as a 500 that says nothing. */
function toApiError (error: FastifyError): ApiError {
  if (error instanceof ApiError) return error
  // Unsupported media types never get here: the catch-all parser answers them (plugins/content.ts).
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return bodyTooLarge()
  const status = error.statusCode ?? 500
  return status >= 400 && status < 500 ? malformedRequest() : serverError()
}

// The error handler must be set before the routes are registered: each route
// scope keeps the handler its parent had when the scope was made.
export default fp(async (app: FastifyInstance) => {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const apiError = toApiError(error)
    // An ApiError was meant (a 503 when the hash queue is full is an answer, not a failure).
    if (apiError.statusCode >= 500 && !(error instanceof ApiError)) request.log.error({ err: error }, 'request failed')
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
