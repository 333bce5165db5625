import type { TSchema } from '@sinclair/typebox'
import { AuthenticationError, Detail, ServiceUnavailable } from './errors.js'
import { RefreshResponse, TokenPair } from './tokens.js'
import { CurrentUser, RegisteredUser } from './users.js'
import { AdminUser } from './admin.js'
import { EventPage } from './events.js'

// The OpenAPI document names the shapes clients share (the token pair, the
// three error shapes of COMPAT.md, the user) in `components.schemas`. Route
// schemas stay composed by import (STYLE.md): this pass runs over the document
// @fastify/swagger generates and puts a `$ref` wherever a response body is one
// of these shapes, so a route added later is covered without naming it here.

type JsonObject = Record<string, unknown>

/** The named response shapes; a body equal to one of them (its description and examples aside) becomes a `$ref`. */
const NAMED_RESPONSES: Record<string, TSchema> = {
  TokenPair,
  RefreshedTokens: RefreshResponse,
  User: CurrentUser,
  RegisteredUser,
  Detail,
  AuthenticationError,
  ServiceUnavailable,
  AdminUser,
  SecurityEventPage: EventPage
}

const VALIDATION_ERROR = 'ValidationError'
const ValidationErrorComponent = {
  type: 'object',
  description: 'DRF\'s serializer errors: a list of messages per field (the route lists its fields), ' +
    '`non_field_errors` for the body as a whole, or `detail` when the body could not be parsed.',
  properties: {
    detail: { type: 'string', description: 'Set when the body could not be parsed.' },
    non_field_errors: { type: 'array', items: { type: 'string' } }
  }
}

/** JSON text with object keys sorted: two schemas are the same shape when these are equal. */
function canonical (value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) return inner
    return Object.fromEntries(Object.entries(inner).sort(([a], [b]) => a < b ? -1 : 1))
  })
}

// @fastify/swagger moves a body's `examples` to its media type, and a status
// says what the body means in its own description.
function withoutDescription (schema: JsonObject): JsonObject {
  const { description: _description, examples: _examples, ...rest } = schema
  return rest
}

const shapes = new Map(Object.entries(NAMED_RESPONSES).map(([name, schema]) =>
  [canonical(withoutDescription(JSON.parse(JSON.stringify(schema)))), name]))

const MESSAGES = canonical({ type: 'array', items: { type: 'string' } })

/** A 400 body of ValidationError(body): `detail`, `non_field_errors` and only lists of messages besides. */
function isValidationError (schema: JsonObject): boolean {
  const properties = schema.properties as Record<string, JsonObject> | undefined
  if (schema.type !== 'object' || properties === undefined || schema.required !== undefined) return false
  if (properties.detail?.type !== 'string' || properties.non_field_errors === undefined) return false
  return Object.entries(properties).every(([name, property]) => name === 'detail' || canonical(property) === MESSAGES)
}

function nameResponseSchema (schema: JsonObject): JsonObject {
  const named = shapes.get(canonical(withoutDescription(schema)))
  if (named !== undefined) return { $ref: `#/components/schemas/${named}` }
  if (isValidationError(schema)) {
    const { detail: _detail, non_field_errors: _nonField, ...fields } = schema.properties as JsonObject
    return { allOf: [{ $ref: `#/components/schemas/${VALIDATION_ERROR}` }, { type: 'object', properties: fields }] }
  }
  return schema
}

interface Operation {
  security?: unknown[]
  responses: Record<string, { content?: Record<string, { schema?: JsonObject }> }>
}
// As @fastify/swagger generates it: `paths` and `components.schemas` are always there.
interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>
  components: { schemas: Record<string, unknown> }
}

/**
 * Names the shared shapes of a generated document in `components.schemas` and
 * marks the operations that declare no security as public (`security: []`).
 */
export function nameSharedSchemas<T extends object> (generated: T): T {
  const document = generated as OpenApiDocument
  const schemas: Record<string, unknown> = { ...document.components.schemas }
  for (const [name, schema] of Object.entries(NAMED_RESPONSES)) schemas[name] = JSON.parse(JSON.stringify(schema))
  schemas[VALIDATION_ERROR] = ValidationErrorComponent
  for (const methods of Object.values(document.paths)) {
    for (const operation of Object.values(methods)) {
      operation.security ??= []
      for (const response of Object.values(operation.responses)) {
        for (const media of Object.values(response.content ?? {})) {
          if (media.schema !== undefined) media.schema = nameResponseSchema(media.schema)
        }
      }
    }
  }
  document.components = { ...document.components, schemas }
  return generated
}
