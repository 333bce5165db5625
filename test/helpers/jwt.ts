import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto'
import { SIGNING_KEY } from './app.js'

// An HS256/384/512 JWT encoder of its own, written from RFC 7515/7519 with
// node:crypto and nothing of Tessera's: tests craft tokens byte by byte with
// it (any header, claims in any order, wrong keys, broken segments) and check
// Tessera's tokens against it, as simplejwt (PyJWT) would.

export type HmacAlgorithm = 'HS256' | 'HS384' | 'HS512'

const HASHES: Record<HmacAlgorithm, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }

export const base64url = (data: string | Buffer): string => Buffer.from(data).toString('base64url')

const fromBase64url = (segment: string): string => Buffer.from(segment, 'base64url').toString('utf8')

/** The signature segment of `header.payload`, base64url-encoded. */
export function hmacSignature (signingInput: string, key: string = SIGNING_KEY, algorithm: HmacAlgorithm = 'HS256'): string {
  return createHmac(HASHES[algorithm], key).update(signingInput).digest('base64url')
}

export interface EncodeOptions {
  /** The algorithm that signs; 'none' leaves the signature empty. */
  algorithm?: HmacAlgorithm | 'none'
  key?: string
  /** The header, as an object (serialized compactly, keys in their order) or as exact JSON text. */
  header?: Record<string, unknown> | string
}

/**
 * A compact JWS of the given claims, as an object (serialized compactly, in
 * its key order, as PyJWT's json.dumps(separators=(',', ':')) does) or as
 * exact JSON text.
 */
export function encodeJwt (claims: Record<string, unknown> | string, options: EncodeOptions = {}): string {
  const algorithm = options.algorithm ?? 'HS256'
  const header = options.header ?? { alg: algorithm, typ: 'JWT' }
  const headerText = typeof header === 'string' ? header : JSON.stringify(header)
  const payloadText = typeof claims === 'string' ? claims : JSON.stringify(claims)
  const signingInput = `${base64url(headerText)}.${base64url(payloadText)}`
  const signature = algorithm === 'none' ? '' : hmacSignature(signingInput, options.key ?? SIGNING_KEY, algorithm)
  return `${signingInput}.${signature}`
}

function segments (token: string): [string, string, string] {
  const parts = token.split('.')
  if (parts.length !== 3) throw new Error(`not a compact JWS: ${parts.length} segments`)
  return parts as [string, string, string]
}

/** The header's JSON text exactly as it was encoded. */
export const rawHeader = (token: string): string => fromBase64url(segments(token)[0])

/** The payload's JSON text exactly as it was encoded. */
export const rawPayload = (token: string): string => fromBase64url(segments(token)[1])

export const decodeHeader = (token: string): Record<string, unknown> => JSON.parse(rawHeader(token))

export const decodePayload = (token: string): Record<string, unknown> => JSON.parse(rawPayload(token))

/** True when the token's signature is the HMAC of its first two segments under the key. */
export function hasValidSignature (token: string, key: string = SIGNING_KEY, algorithm: HmacAlgorithm = 'HS256'): boolean {
  const [header, payload, signature] = segments(token)
  const expected = Buffer.from(hmacSignature(`${header}.${payload}`, key, algorithm))
  const actual = Buffer.from(signature)
  return expected.length === actual.length && timingSafeEqual(expected, actual)
}

/** The token with its payload replaced and its original signature kept. */
export function withPayload (token: string, claims: Record<string, unknown>): string {
  const [header, , signature] = segments(token)
  return `${header}.${base64url(JSON.stringify(claims))}.${signature}`
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000)

/** uuid4().hex, as simplejwt makes its jti. */
export const simplejwtJti = (): string => randomUUID().replaceAll('-', '')

export interface ClaimOptions {
  /** Seconds since the epoch; now by default. */
  iat?: number
  /** Seconds; simplejwt's defaults (5 minutes access, 1 day refresh) by default. */
  lifetime?: number
}

/** Claims as simplejwt 5.2.2 mints them, in its order. */
export function simplejwtClaims (tokenType: 'access' | 'refresh', userId: number | string, options: ClaimOptions = {}): Record<string, unknown> {
  const iat = options.iat ?? nowSeconds()
  const lifetime = options.lifetime ?? (tokenType === 'access' ? 300 : 86400)
  return { token_type: tokenType, exp: iat + lifetime, iat, jti: simplejwtJti(), user_id: userId }
}

/** The claims without the named ones (for tokens that lack a claim). */
export function without (claims: Record<string, unknown>, ...names: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(claims).filter(([name]) => !names.includes(name)))
}
