import { Type, type TObject, type TProperties, type TSchema } from '@sinclair/typebox'

// The error bodies of COMPAT.md as schemas: they document every error in the
// OpenAPI document, and fast-json-stringify writes their keys in this order.

export const Detail = Type.Object({ detail: Type.String() }, {
  description: 'A DRF error with a message only.'
})

export const TokenErrorMessage = Type.Object({
  token_class: Type.String({ examples: ['AccessToken'] }),
  token_type: Type.String({ examples: ['access'] }),
  message: Type.String({ examples: ['Token is invalid or expired'] })
})

export const AuthenticationError = Type.Object({
  detail: Type.String(),
  code: Type.Optional(Type.String({ examples: ['token_not_valid'] })),
  messages: Type.Optional(Type.Array(TokenErrorMessage))
}, {
  description: 'Authentication failed (401), with `WWW-Authenticate: Bearer realm="api"`. `code` is one of ' +
    'bad_authorization_header, token_not_valid, user_not_found, user_inactive, no_active_account; ' +
    '`messages` appears when an access token was not valid.',
  examples: [{
    detail: 'Given token not valid for any token type',
    code: 'token_not_valid',
    messages: [{ token_class: 'AccessToken', token_type: 'access', message: 'Token is invalid or expired' }]
  }]
})

const Messages = Type.Array(Type.String())

/** The 400 body of a route taking the given body: DRF's field errors, or a parse error's detail. */
export function ValidationError (body: TObject): TObject {
  const fields: TProperties = {}
  for (const name of Object.keys(body.properties)) fields[name] = Type.Optional(Messages)
  return Type.Object({
    detail: Type.Optional(Type.String({ description: 'Set when the body could not be parsed.' })),
    ...fields,
    non_field_errors: Type.Optional(Messages)
  }, {
    description: 'The request was not valid: a list of messages per field (DRF\'s serializer errors), or a parse error.'
  })
}

interface ErrorResponses {
  /** The route's body schema, or null for a route that takes none. */
  body: TObject | null
  /** Whether the route can answer 401. */
  unauthorized?: boolean
  /** Whether the route is throttled (429). */
  throttled?: boolean
  /** When the route can answer 403: what the 403 means there. */
  forbidden?: string
  /** When the route takes a query string: its 400 body. */
  badQuery?: TSchema
}

export const ServiceUnavailable = Type.Object({
  detail: Type.String({ examples: ['Service temporarily unavailable.'] }),
  code: Type.String({ examples: ['service_unavailable'] })
}, {
  description: 'The database is unreachable, the server is overloaded, or (on the routes that hash a password) too many ' +
    'hashes are queued (HASH_QUEUE_LIMIT); nothing was done. The `Retry-After` header gives the seconds to wait ' +
    'before trying again.'
})

/** The error responses a route can give, for its response schema. */
export function errorResponses ({ body, unauthorized = false, throttled = false, forbidden, badQuery }: ErrorResponses): Record<number, TSchema> {
  const responses: Record<number, TSchema> = {}
  if (body !== null) responses[400] = ValidationError(body)
  else if (badQuery !== undefined) responses[400] = badQuery
  if (unauthorized) responses[401] = AuthenticationError
  if (forbidden !== undefined) responses[403] = Type.Object(Detail.properties, { description: forbidden })
  responses[405] = Type.Object(Detail.properties, { description: 'Method not allowed.' })
  responses[406] = Type.Object(Detail.properties, { description: 'The Accept header asks for something other than JSON.' })
  if (body !== null) {
    responses[413] = Type.Object(Detail.properties, { description: 'The body is larger than the limit.' })
    responses[415] = Type.Object(Detail.properties, { description: 'The body is neither JSON nor form-encoded.' })
  }
  if (throttled) {
    responses[429] = Type.Object(Detail.properties, {
      description: 'Too many attempts from this address or on this username; `Retry-After` says when to try again.',
      examples: [{ detail: 'Request was throttled. Expected available in 42 seconds.' }]
    })
  }
  responses[500] = Type.Object(Detail.properties, { description: 'An unexpected error; the body says nothing of it.' })
  responses[503] = ServiceUnavailable
  return responses
}
