import { randomUUID } from 'node:crypto'

// SimpleJWT's token claims and the checks it makes after the signature, in
// its order (COMPAT.md "Tokens"). Pure functions over a decoded payload.

export type TokenType = 'access' | 'refresh'

// A type alias, not an interface, so that it is assignable to Record<string, unknown>.
export type TokenClaims = {
  token_type: TokenType
  exp: number
  iat: number
  jti: string
  user_id: number
}

export const TOKEN_INVALID = 'Token is invalid or expired'
export const TOKEN_BLACKLISTED = 'Token is blacklisted'
export const MAX_JTI_LENGTH = 255

/** uuid4 as 32 lowercase hex digits, as simplejwt's `uuid4().hex`. */
export const newJti = () => randomUUID().replaceAll('-', '')

/** Claims in SimpleJWT's order: token_type, exp, iat, jti, user_id. */
export function mintClaims (tokenType: TokenType, userId: number, now: number, lifetime: number): TokenClaims {
  return { token_type: tokenType, exp: now + lifetime, iat: now, jti: newJti(), user_id: userId }
}

const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value)

export interface StandardClaimSettings { jwtIssuer?: string | undefined, jwtAudience?: string | undefined, jwtSubClaim: boolean }

/** iss, aud and sub, as configured: they follow SimpleJWT's claims, so that the defaults keep its bytes. */
export function standardClaims (settings: StandardClaimSettings, userId: unknown): Record<string, string> {
  const claims: Record<string, string> = {}
  if (settings.jwtIssuer !== undefined) claims.iss = settings.jwtIssuer
  if (settings.jwtAudience !== undefined) claims.aud = settings.jwtAudience
  if (settings.jwtSubClaim) claims.sub = String(userId)
  return claims
}

/** What a token must satisfy besides SimpleJWT's rules: clock skew, and iss/aud when configured. */
export interface ClaimRules { leeway: number, issuer?: string | undefined, audience?: string | undefined }
export const DEFAULT_CLAIM_RULES: ClaimRules = { leeway: 0 }

const names = (value: unknown, expected: string) => value === expected || (Array.isArray(value) && value.includes(expected))

/**
 * Checks a payload whose signature is good. Returns null when the token is
 * acceptable, or SimpleJWT's message for the first problem found. With
 * `expected` null any token type passes (simplejwt's UntypedToken).
 */
export function checkClaims (payload: Record<string, unknown>, expected: TokenType | null, now: number, rules: ClaimRules = DEFAULT_CLAIM_RULES): string | null {
  // PyJWT's registered-claim checks come first: a malformed or passed exp,
  // an iat or nbf in the future.
  for (const claim of ['exp', 'iat', 'nbf']) {
    if (claim in payload && !isTime(payload[claim])) return TOKEN_INVALID
  }
  const { leeway } = rules
  if (isTime(payload.exp) && payload.exp <= now - leeway) return TOKEN_INVALID
  if (isTime(payload.iat) && payload.iat > now + leeway) return TOKEN_INVALID
  if (isTime(payload.nbf) && payload.nbf > now + leeway) return TOKEN_INVALID
  // As PyJWT with issuer/audience given: the claim is required and must match.
  if (rules.audience !== undefined && !names(payload.aud, rules.audience)) return TOKEN_INVALID
  if (rules.issuer !== undefined && payload.iss !== rules.issuer) return TOKEN_INVALID
  // Then simplejwt's own, in its order.
  if (!('exp' in payload)) return "Token has no 'exp' claim"
  if (!('jti' in payload)) return 'Token has no id'
  if (jtiOf(payload) === null) return TOKEN_INVALID
  if (expected !== null) {
    if (!('token_type' in payload)) return 'Token has no type'
    if (payload.token_type !== expected) return 'Token has wrong type'
  }
  return null
}

/** The jti as stored: a string (or a number, as text) of at most 255 characters. */
export function jtiOf (payload: Record<string, unknown>): string | null {
  const jti = payload.jti
  if (typeof jti === 'number' && Number.isFinite(jti)) return String(jti)
  if (typeof jti === 'string' && jti.length > 0 && jti.length <= MAX_JTI_LENGTH) return jti
  return null
}

/**
 * The user id of a token: undefined when the claim is missing (no recognizable
 * identification), null when it can name no user (an id that cannot exist).
 * simplejwt takes `User.objects.get(id=user_id)`, so a numeric string is accepted.
 */
export function userIdOf (payload: Record<string, unknown>): number | null | undefined {
  if (!('user_id' in payload)) return undefined
  const raw = payload.user_id
  const id = typeof raw === 'string' && /^\s*\d{1,10}\s*$/.test(raw) ? Number(raw) : raw
  return typeof id === 'number' && Number.isSafeInteger(id) && id > 0 && id <= 2147483647 ? id : null
}
