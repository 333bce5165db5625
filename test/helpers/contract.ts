import { readFileSync } from 'node:fs'
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js'
import addFormatsPlugin from 'ajv-formats'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import { OPENAPI_PATH } from '../../src/cli/openapi.js'

// Every response of the suite is checked against the committed OpenAPI
// document (which test/openapi.test.ts keeps equal to what the code
// generates): the status must be one the document declares for the route, and
// the body must match the schema it declares for that status. It is driven by
// the document alone, so routes added later are checked without being named.

/** Served, deliberately left out of the document (`hide: true`): the documentation itself. */
export const UNDOCUMENTED_PREFIXES = ['/docs', '/openapi.json']

interface MediaType { schema?: object }
interface Operation { responses: Record<string, { content?: Record<string, MediaType> }> }
interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>
  components: { schemas: Record<string, object> }
}

type Json = Record<string, unknown>

// ajv-formats is CommonJS: its default export arrives wrapped.
const addFormats = addFormatsPlugin as unknown as (ajv: Ajv2020) => Ajv2020

interface Route { pattern: RegExp, path: string, methods: Record<string, Operation> }

export class Contract {
  readonly #document: OpenApiDocument
  readonly #routes: Route[]
  readonly #ajv = new Ajv2020({ strict: false, allErrors: true })
  readonly #validators = new Map<string, ValidateFunction>()

  constructor (document: OpenApiDocument) {
    this.#document = document
    addFormats(this.#ajv)
    // OpenAPI's `password` format only tells a UI to hide the field.
    this.#ajv.addFormat('password', true)
    this.#routes = Object.entries(document.paths).map(([path, methods]) => ({ pattern: pathPattern(path), path, methods }))
  }

  /** The problems with a response, or [] when the document allows it. */
  check (method: string, url: string, response: LightMyRequestResponse): string[] {
    const pathname = new URL(url, 'http://localhost').pathname
    const name = `${method} ${pathname} → ${response.statusCode}`
    if (UNDOCUMENTED_PREFIXES.some(prefix => pathname === prefix || pathname.startsWith(`${prefix}/`))) return []
    // A path that is not valid percent-encoding names nothing: the 404, whatever the route and method.
    if (!decodes(pathname) && response.statusCode === 404) return this.#checkBody(name, 'unknown path', response, ref('Detail'), method)
    const route = this.#routes.find(candidate => candidate.pattern.test(pathname))
    // Not a documented path: the 404 of COMPAT.md, or a refusal of the request itself.
    if (route === undefined) {
      const allowed = response.statusCode === 404 || REQUEST_REFUSALS.has(response.statusCode)
      return this.#checkBody(name, 'unknown path', response, allowed ? ref('Detail') : undefined, method)
    }
    // HEAD is answered wherever GET is, with GET's statuses and no body.
    const operation = route.methods[method.toLowerCase()] ?? (method === 'HEAD' ? route.methods.get : undefined)
    if (operation === undefined) {
      // A method the path does not take: its 405 (or a 401 first, on a protected path), a refusal of the
      // request itself, or (OPTIONS, left to CORS preflights) the 404.
      const statuses = new Set(Object.values(route.methods).flatMap(other => Object.keys(other.responses)))
      const status = response.statusCode
      const allowed = status === 405 || REQUEST_REFUSALS.has(status) || (status === 404 && method === 'OPTIONS') || (status === 401 && statuses.has('401'))
      return this.#checkBody(name, route.path, response, allowed ? ref(status === 401 ? 'AuthenticationError' : 'Detail') : undefined, method)
    }
    const declared = operation.responses[String(response.statusCode)]
    if (declared === undefined) return [`${name}: status ${response.statusCode} is not in the document for ${method} ${route.path}`]
    const schema = declared.content?.['application/json']?.schema
    // HEAD answers, and statuses documented without a body, have none.
    if (method === 'HEAD' || schema === undefined) return response.body === '' ? [] : [`${name}: a body the document does not declare`]
    return this.#checkBody(name, `${route.path} ${method} ${response.statusCode}`, response, schema)
  }

  #checkBody (name: string, key: string, response: LightMyRequestResponse, schema: object | undefined, method = 'GET'): string[] {
    if (schema === undefined) return [`${name}: status ${response.statusCode} is not in the document`]
    // A HEAD answer never has a body.
    if (method === 'HEAD') return response.body === '' ? [] : [`${name}: a body in a HEAD answer`]
    if (!/^application\/json\b/.test(String(response.headers['content-type']))) {
      return [`${name}: content-type ${String(response.headers['content-type'])}, the document says application/json`]
    }
    let body: unknown
    try {
      body = JSON.parse(response.body)
    } catch {
      return [`${name}: the body is not JSON: ${response.body.slice(0, 200)}`]
    }
    const validate = this.#validator(key, schema)
    if (validate(body)) return []
    return [`${name}: the body does not match the document: ${this.#ajv.errorsText(validate.errors)}; body ${response.body.slice(0, 500)}`]
  }

  #validator (key: string, schema: object): ValidateFunction {
    let validate = this.#validators.get(key)
    if (validate === undefined) {
      // The document's `#/components/schemas/X` become the schema's own `$defs`.
      const text = JSON.stringify({ ...schema, $defs: this.#document.components.schemas })
      validate = this.#ajv.compile(JSON.parse(text.replaceAll('"#/components/schemas/', '"#/$defs/')) as Json)
      this.#validators.set(key, validate)
    }
    return validate
  }
}

/**
 * Refusals of a request as a whole, made before a route or method is chosen
 * (a malformed URL or body, an Accept JSON cannot satisfy, a body over the
 * limit, an unsupported type): allowed, as `Detail`, where no operation is.
 */
const REQUEST_REFUSALS = new Set([400, 406, 413, 415])

function decodes (pathname: string): boolean {
  try {
    decodeURIComponent(pathname)
    return true
  } catch {
    return false
  }
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })

/** `/api/things/{id}/` matches `/api/things/7/` and `/api/things/7` (the trailing slash is optional here). */
function pathPattern (path: string): RegExp {
  const source = path.replace(/\/$/, '').split(/\{[^}]+\}/).map(part => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[^/]+')
  return new RegExp(`^${source}/?$`)
}

let shared: Contract | undefined

/** The committed document's contract, read once per test process. */
export function contract (): Contract {
  shared ??= new Contract(JSON.parse(readFileSync(OPENAPI_PATH, 'utf8')) as OpenApiDocument)
  return shared
}

/**
 * Makes `app.inject` check every response against the document: a response the
 * document does not allow rejects the call, so the test fails.
 */
export function checkResponses (app: FastifyInstance, checked: Contract = contract()): FastifyInstance {
  const inject = app.inject.bind(app)
  const injectChecked = async (options: InjectOptions | string): Promise<LightMyRequestResponse> => {
    const request = typeof options === 'string' ? { method: 'GET', url: options } : options
    const response = await inject(request)
    const url = typeof request.url === 'string' ? request.url : String(request.url?.pathname)
    const problems = checked.check(String(request.method ?? 'GET').toUpperCase(), url, response)
    if (problems.length > 0) throw new Error(`OpenAPI contract: ${problems.join('\n')}`)
    return response
  }
  app.inject = injectChecked as FastifyInstance['inject']
  return app
}
