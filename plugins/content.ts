import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import fp from 'fastify-plugin'
import { badQueryParameter, nonFieldErrors, notAcceptable, notFound, parseError, unsupportedMediaType } from '../src/errors.js'
import { formats } from '../src/schemas/formats.js'
import { withJsonNumbers } from '../src/schemas/json-numbers.js'
import { compileBodyValidator } from '../src/schemas/validate.js'
import type { TObject } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'

// How requests are read and answered as DRF's parsers, content negotiation
// and JSON renderer do: JSON and form-encoded bodies, 406 for an Accept that
// JSON cannot satisfy, and `Content-Type: application/json` exactly.

/**
 * True when the Accept header admits application/json (no header admits
 * everything). DRF's negotiation ignores q values, `q=0` included (its docs
 * say so), and so does this.
 */
export function acceptsJson (accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return true
  return accept.split(',').some(range => {
    const type = range.split(';')[0]!.trim().toLowerCase()
    return type === 'application/json' || type === 'application/*' || type === '*/*'
  })
}

// The two hooks below run on every API request: callback style, so that no
// promise is made per request for work that never waits.
export function requireJsonAccept (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  done(acceptsJson(request.headers.accept) ? undefined : notAcceptable())
}

const FASTIFY_JSON = 'application/json; charset=utf-8'

export function plainJsonContentType<Payload> (_request: FastifyRequest, reply: FastifyReply, payload: Payload, done: (err: null, payload: Payload) => void): void {
  if (reply.getHeader('content-type') === FASTIFY_JSON) reply.header('content-type', 'application/json')
  done(null, payload)
}

/** Auth bodies are flat objects; deeper nesting than this is refused before parsing. */
export const MAX_JSON_DEPTH = 32

/** Whether JSON text opens more than `max` arrays or objects inside one another (strings skipped). */
export function nestedDeeperThan (text: string, max: number): boolean {
  let depth = 0
  for (let at = 0; at < text.length; at++) {
    const char = text.charCodeAt(at)
    if (char === 0x22) { // a string: skip to its closing quote
      for (at++; at < text.length && text.charCodeAt(at) !== 0x22; at++) if (text.charCodeAt(at) === 0x5c) at++
    } else if (char === 0x5b || char === 0x7b) {
      if (++depth > max) return true
    } else if (char === 0x5d || char === 0x7d) {
      depth--
    }
  }
  return false
}

function parseJson (_request: FastifyRequest, body: string, done: (error: Error | null, body?: unknown) => void): void {
  // DRF reads an empty body as an empty object.
  if (body.trim() === '') return done(null, {})
  if (nestedDeeperThan(body, MAX_JSON_DEPTH)) return done(parseError(`nested deeper than ${MAX_JSON_DEPTH} levels`))
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch (error) {
    return done(parseError((error as Error).message))
  }
  // DRF's serializer answers a null body with this one message.
  if (parsed === null) return done(nonFieldErrors('No data provided'))
  done(null, withJsonNumbers(body, parsed))
}

function parseForm (_request: FastifyRequest, body: string, done: (error: Error | null, body?: unknown) => void): void {
  // A repeated field takes its last value, as Django's QueryDict does.
  done(null, Object.fromEntries(new URLSearchParams(body)))
}

function refuseOtherTypes (request: FastifyRequest, _body: string, done: (error: Error | null, body?: unknown) => void): void {
  const contentType = request.headers['content-type']
  // DRF ignores a body that has no Content-Type.
  if (contentType === undefined) return done(null, {})
  done(unsupportedMediaType(contentType.slice(0, 200)))
}

/**
 * Fastify's validator compiler: bodies are checked as DRF's serializers do
 * (src/schemas/validate.ts); path parameters name a resource, so one that
 * does not fit its schema is a 404 `{"detail":"Not found."}`, as Django's URL
 * patterns answer.
 */
export function compileValidator ({ schema, httpPart }: { schema: unknown, httpPart?: string }) {
  if (httpPart === 'params') {
    return (data: unknown) => Value.Check(schema as TObject, data) ? { value: data } : { error: notFound() }
  }
  // Query strings filter and page lists: a value that does not fit is a 400 naming the parameter.
  if (httpPart === 'querystring') {
    return (data: unknown) => {
      const problem = Value.Errors(schema as TObject, data).First()
      return problem === undefined ? { value: data } : { error: badQueryParameter(problem.path.slice(1)) }
    }
  }
  // Bodies, params and query strings only; a route declaring another part must not go unchecked.
  if (httpPart !== 'body') throw new Error(`no validator for ${httpPart}: only bodies, path parameters and query strings are validated`)
  const validateBody = compileBodyValidator(schema as TObject, formats)
  return (data: unknown) => {
    try {
      // Fastify passes null when no body came (no parser ran): DRF reads that as an empty form.
      return { value: validateBody(data ?? {}) }
    } catch (error) {
      return { error: error as Error }
    }
  }
}

type BodyParser = (request: FastifyRequest, body: string, done: (error: Error | null, body?: unknown) => void) => void

// A route that declares no body never reads one, as a DRF view never touches
// request.data for a method it does not handle: a wrong method or an unknown
// path gets its 405 or 404 whatever body came with it.
const whereBodyIsRead = (parse: BodyParser): BodyParser => (request, body, done) => {
  if (request.routeOptions.schema?.body === undefined) return done(null, undefined)
  parse(request, body, done)
}

export default fp(async (app: FastifyInstance) => {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('application/json', { parseAs: 'string' }, whereBodyIsRead(parseJson))
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, whereBodyIsRead(parseForm))
  app.addContentTypeParser('*', { parseAs: 'string' }, whereBodyIsRead(refuseOtherTypes))

  app.setValidatorCompiler(compileValidator)
}, { name: 'tessera-content' })
