// The CSRF defence of cookie-authenticated requests (REFRESH_TOKEN_COOKIE).
// Two checks, both required:
// 1. A custom header, `X-Requested-With: XMLHttpRequest`. A form, a link or an
//    image cannot send it, and a cross-origin fetch that sets it needs a CORS
//    preflight, which only the allowed origins pass.
// 2. The `Origin` header names an allowed origin (CORS_ORIGINS). Browsers send
//    it on every POST, same-origin ones included, so a cookie request without
//    it did not come from a browser page that may use the cookie: refused.

export const CSRF_HEADER = 'x-requested-with'
export const CSRF_HEADER_VALUE = 'XMLHttpRequest'

const MAX_ORIGIN_SHOWN = 200

/** Why a cookie-authenticated request must be refused, or null when it passes. */
export function csrfProblem (headers: Record<string, string | string[] | undefined>, allowed: string[]): string | null {
  if (headers[CSRF_HEADER] !== CSRF_HEADER_VALUE) return `CSRF Failed: the X-Requested-With: ${CSRF_HEADER_VALUE} header is missing.`
  const origin = headers.origin
  if (typeof origin !== 'string' || origin === '') return 'CSRF Failed: Origin checking failed - no Origin.'
  if (!allowed.includes(origin)) {
    return `CSRF Failed: Origin checking failed - ${origin.slice(0, MAX_ORIGIN_SHOWN)} does not match any trusted origins.`
  }
  return null
}
