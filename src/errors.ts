// The one error vocabulary: every error Tessera answers with, as the bodies of
// DRF + SimpleJWT (../shared/COMPAT.md). Routes and the core throw these; the
// error handler only sends them.

export type ErrorBody = Record<string, unknown>
export type FieldErrors = Record<string, string[]>

export class ApiError extends Error {
  override name = 'ApiError'
  constructor (readonly statusCode: number, readonly body: ErrorBody, readonly headers: Record<string, string> = {}) {
    // An answer, not a fault: no stack is captured (nothing reads it). Capturing one was a tenth of the
    // event loop's time in a login flood answered 503 (npm run bench -- --profile).
    const stackTraceLimit = Error.stackTraceLimit
    Error.stackTraceLimit = 0
    super(typeof body.detail === 'string' ? body.detail : `HTTP ${statusCode}`)
    Error.stackTraceLimit = stackTraceLimit
  }
}

const TOKEN_NOT_VALID = 'token_not_valid'

// Protected routes
export const notAuthenticated = () =>
  new ApiError(401, { detail: 'Authentication credentials were not provided.' })
export const badAuthorizationHeader = () =>
  new ApiError(401, { detail: 'Authorization header must contain two space-delimited values', code: 'bad_authorization_header' })
export const accessTokenNotValid = (message: string) =>
  new ApiError(401, {
    detail: 'Given token not valid for any token type',
    code: TOKEN_NOT_VALID,
    messages: [{ token_class: 'AccessToken', token_type: 'access', message }]
  })
export const noUserIdentification = () =>
  new ApiError(401, { detail: 'Token contained no recognizable user identification', code: TOKEN_NOT_VALID })
export const userNotFound = () => new ApiError(401, { detail: 'User not found', code: 'user_not_found' })
export const userInactive = () => new ApiError(401, { detail: 'User is inactive', code: 'user_inactive' })

// Token endpoints
export const noActiveAccount = () =>
  new ApiError(401, { detail: 'No active account found with the given credentials' })
export const tokenNotValid = (detail: string) => new ApiError(401, { detail, code: TOKEN_NOT_VALID })
export const noActiveAccountForToken = () =>
  new ApiError(401, { detail: 'No active account found for the given token.', code: 'no_active_account' })

// Authorization (DRF's PermissionDenied) and CSRF (DRF's SessionAuthentication wording)
export const PERMISSION_DENIED = 'You do not have permission to perform this action.'
export const permissionDenied = () => new ApiError(403, { detail: PERMISSION_DENIED })
export const csrfFailed = (detail: string) => new ApiError(403, { detail })

// Validation
export const fieldErrors = (errors: FieldErrors) => new ApiError(400, errors)
export const nonFieldErrors = (...messages: string[]) => new ApiError(400, { non_field_errors: messages })

// Any route
export const parseError = (reason: string) => new ApiError(400, { detail: `JSON parse error - ${reason}` })
export const malformedRequest = () => new ApiError(400, { detail: 'Malformed request.' })
export const bodyTooLarge = () => new ApiError(413, { detail: 'Request body is too large.' })
export const unsupportedMediaType = (contentType: string) =>
  new ApiError(415, { detail: `Unsupported media type "${contentType}" in request.` })
export const methodNotAllowed = (method: string, allow: string) =>
  new ApiError(405, { detail: `Method "${method}" not allowed.` }, { allow })
export const notAcceptable = () => new ApiError(406, { detail: 'Could not satisfy the request Accept header.' })
export const notFound = () => new ApiError(404, { detail: 'Not found.' })
export const invalidCursor = () => new ApiError(400, { detail: 'Invalid cursor' })
export const badQueryParameter = (name: string) =>
  new ApiError(400, { detail: `Invalid value for the query parameter "${name.slice(0, 50)}".` })
export const serverError = () => new ApiError(500, { detail: 'A server error occurred.' })

// Hardening: limits, throttling, faults and overload
/** DRF's throttled 429, with its Retry-After header. */
export const throttled = (seconds: number) =>
  new ApiError(429, { detail: `Request was throttled. Expected available in ${seconds} second${seconds === 1 ? '' : 's'}.` }, { 'retry-after': String(seconds) })
/** The database is unreachable, or the process is overloaded: try again shortly. */
export const serviceUnavailable = (retryAfterSeconds = 5) =>
  new ApiError(503, { detail: 'Service temporarily unavailable.', code: 'service_unavailable' }, { 'retry-after': String(retryAfterSeconds) })
export const headersTooLarge = () => new ApiError(431, { detail: 'Request header fields are too large.' })
