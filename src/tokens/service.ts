import type { Config } from '../config.js'
import type { Db } from '../db/index.js'
import { accessTokenNotValid, noActiveAccountForToken, noUserIdentification, nonFieldErrors, tokenNotValid, userInactive, userNotFound } from '../errors.js'
import type { UserStatusLookup } from '../users/status.js'
import { checkClaims, jtiOf, mintClaims, TOKEN_BLACKLISTED, TOKEN_INVALID, userIdOf, type TokenType } from './claims.js'
import { blacklistRefreshToken, isBlacklisted, recordRefreshToken, rotateRefreshToken, type RefreshTokenRecord } from './refresh-token-store.js'

// Minting, checking, rotating and blacklisting tokens: SimpleJWT's token
// views as plain functions. Signing and signature checks are given (the jwt
// plugin passes @fastify/jwt's); everything after the signature is here.

export type TokenSettings = Pick<Config, 'accessTokenLifetime' | 'refreshTokenLifetime' | 'rotateRefreshTokens' | 'blacklistAfterRotation'> &
  Partial<Pick<Config, 'jwtLeeway' | 'jwtIssuer' | 'jwtAudience'>>

export interface TokenDeps {
  db: Db
  settings: TokenSettings
  /** Signs claims as they are, keeping their order. */
  sign: (claims: object) => string
  /** Returns the payload of a token whose signature and algorithm are good; throws otherwise. */
  verifySignature: (token: string) => Record<string, unknown>
  /** Seconds since the epoch. */
  now: () => number
}

export interface TokenPair { refresh: string, access: string }

const toDate = (seconds: number) => new Date(seconds * 1000)

function recordOf (payload: Record<string, unknown>, userId: number, now: number): RefreshTokenRecord {
  return {
    jti: jtiOf(payload)!,
    userId,
    issuedAt: toDate(typeof payload.iat === 'number' ? payload.iat : now),
    expiresAt: toDate(payload.exp as number)
  }
}

/** Decodes a token and applies SimpleJWT's checks: the payload, or the message of the first problem. */
export function decodeToken (deps: TokenDeps, token: string, expected: TokenType | null): { payload: Record<string, unknown> } | { problem: string } {
  let payload: Record<string, unknown>
  try {
    payload = deps.verifySignature(token)
  } catch {
    return { problem: TOKEN_INVALID }
  }
  const { jwtLeeway = 0, jwtIssuer, jwtAudience } = deps.settings
  const problem = checkClaims(payload, expected, deps.now(), { leeway: jwtLeeway, issuer: jwtIssuer, audience: jwtAudience })
  return problem === null ? { payload } : { problem }
}

function decodeOrThrow (deps: TokenDeps, token: string, expected: TokenType | null): Record<string, unknown> {
  const decoded = decodeToken(deps, token, expected)
  if ('problem' in decoded) throw tokenNotValid(decoded.problem)
  return decoded.payload
}

/** The access token's claims for a protected route (the user's state is checked by the caller). */
export function authenticateAccessToken (deps: TokenDeps, token: string): { userId: number, payload: Record<string, unknown> } {
  const decoded = decodeToken(deps, token, 'access')
  if ('problem' in decoded) throw accessTokenNotValid(decoded.problem)
  const userId = userIdOf(decoded.payload)
  if (userId === undefined) throw noUserIdentification()
  if (userId === null) throw userNotFound()
  return { userId, payload: decoded.payload }
}

/** Throws user_not_found / user_inactive as simplejwt's JWTAuthentication.get_user does. */
export async function assertUserCanAuthenticate (lookup: UserStatusLookup, userId: number): Promise<void> {
  const status = await lookup(userId)
  if (status === undefined) throw userNotFound()
  if (!status.isActive) throw userInactive()
}

/** A new pair for a user who has just proven who they are; the refresh token is recorded. */
export async function issueTokenPair (deps: TokenDeps, userId: number): Promise<TokenPair> {
  const now = deps.now()
  const refreshClaims = mintClaims('refresh', userId, now, deps.settings.refreshTokenLifetime)
  const accessClaims = mintClaims('access', userId, now, deps.settings.accessTokenLifetime)
  await recordRefreshToken(deps.db, recordOf(refreshClaims, userId, now))
  return { refresh: deps.sign(refreshClaims), access: deps.sign(accessClaims) }
}

/** POST /api/token/refresh/: a new access token, and with rotation a new refresh token. */
export async function refreshAccessToken (deps: TokenDeps, token: string): Promise<{ access: string, refresh?: string }> {
  const payload = decodeOrThrow(deps, token, 'refresh')
  const userId = userIdOf(payload)
  if (userId == null) throw noActiveAccountForToken()
  const { settings } = deps
  const now = deps.now()
  const next = settings.rotateRefreshTokens ? mintClaims('refresh', userId, now, settings.refreshTokenLifetime) : null
  const outcome = await rotateRefreshToken(deps.db, {
    old: recordOf(payload, userId, now),
    next: next === null ? null : recordOf(next, userId, now),
    blacklistOld: settings.rotateRefreshTokens && settings.blacklistAfterRotation,
    now: toDate(now)
  })
  if (outcome === 'blacklisted') throw tokenNotValid(TOKEN_BLACKLISTED)
  if (outcome === 'no_active_account') throw noActiveAccountForToken()
  const access = deps.sign(mintClaims('access', userId, now, settings.accessTokenLifetime))
  return next === null ? { access } : { access, refresh: deps.sign(next) }
}

/** POST /api/token/verify/: any token type; a blacklisted refresh token is a 400, as in simplejwt. */
export async function verifyAnyToken (deps: TokenDeps, token: string): Promise<void> {
  const payload = decodeOrThrow(deps, token, null)
  if (deps.settings.blacklistAfterRotation && await isBlacklisted(deps.db, jtiOf(payload)!)) {
    throw nonFieldErrors(TOKEN_BLACKLISTED)
  }
}

/** POST /api/token/blacklist/ */
export async function blacklistToken (deps: TokenDeps, token: string): Promise<void> {
  const payload = decodeOrThrow(deps, token, 'refresh')
  const now = deps.now()
  const userId = userIdOf(payload)
  // A refresh token naming no user opens nothing: blacklisting it is a no-op.
  if (userId == null) return
  if (!await blacklistRefreshToken(deps.db, recordOf(payload, userId, now), toDate(now))) {
    throw tokenNotValid(TOKEN_BLACKLISTED)
  }
}
