import { KID, type KeySet, type VerificationKey } from './key-set.js'

// What is checked before the JWT library sees a token (RFC 8725): its size,
// its shape, and a header that names one of our keys with that key's own
// algorithm. Anything else is refused, never looked up elsewhere: keys are
// never taken from jku, x5u, jwk or x5c, and no critical extension is known.

/** Longer than any token Tessera mints (a few hundred bytes), short enough to refuse a flood before decoding. */
export const MAX_TOKEN_LENGTH = 4096

export class UnacceptableToken extends Error {
  override name = 'UnacceptableToken'
}

const SEGMENT = /^[A-Za-z0-9_-]+$/
const FORBIDDEN_HEADERS = ['jku', 'x5u', 'jwk', 'x5c', 'crit']
/** typ values we mint: JWT, and at+jwt for access tokens (RFC 9068) when configured. */
const TYPES = new Set(['JWT', 'at+jwt', 'application/at+jwt'])

/**
 * True when some object in valid JSON text names a member twice. JSON.parse
 * keeps the last, another parser the first: such a token means two things.
 */
export function hasDuplicateKeys (text: string): boolean {
  const objects: Array<Set<string> | null> = []
  let expectKey = false
  for (let i = 0; i < text.length; i++) {
    const char = text[i]
    if (char === '"') {
      let end = i + 1
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1
      const members = objects.at(-1)
      if (expectKey && members) {
        const key = JSON.parse(text.slice(i, end + 1)) as string
        if (members.has(key)) return true
        members.add(key)
      }
      expectKey = false
      i = end
    } else if (char === '{') {
      objects.push(new Set())
      expectKey = true
    } else if (char === '[') {
      objects.push(null)
    } else if (char === '}' || char === ']') {
      objects.pop()
    } else if (char === ',') {
      expectKey = objects.at(-1) instanceof Set
    }
  }
  return false
}

/** A segment as a JSON object with each member once; throws otherwise. */
export function decodeSegment (segment: string): Record<string, unknown> {
  if (!SEGMENT.test(segment)) throw new UnacceptableToken('not base64url')
  const text = Buffer.from(segment, 'base64url').toString('utf8')
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new UnacceptableToken('not JSON')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UnacceptableToken('not a JSON object')
  if (hasDuplicateKeys(text)) throw new UnacceptableToken('a member appears twice')
  return value as Record<string, unknown>
}

/**
 * The key that may verify a token: the one its header's kid names (no kid:
 * the shortcut key), and only when the header's alg is that key's algorithm.
 * Throws UnacceptableToken for anything else; the signature is not checked here.
 */
export function selectVerificationKey (set: KeySet, token: string): VerificationKey {
  if (token.length > MAX_TOKEN_LENGTH) throw new UnacceptableToken('too long')
  const segments = token.split('.')
  if (segments.length !== 3 || !SEGMENT.test(segments[2]!)) throw new UnacceptableToken('not a signed compact JWS')
  const header = decodeSegment(segments[0]!)
  decodeSegment(segments[1]!)
  for (const name of FORBIDDEN_HEADERS) {
    if (name in header) throw new UnacceptableToken(`header ${name} is not accepted`)
  }
  if ('typ' in header && !TYPES.has(header.typ as string)) throw new UnacceptableToken('unknown typ')
  let kid = ''
  if ('kid' in header) {
    if (typeof header.kid !== 'string' || !KID.test(header.kid)) throw new UnacceptableToken('malformed kid')
    kid = header.kid
  }
  const key = set.keys.get(kid)
  if (key === undefined) throw new UnacceptableToken('unknown kid')
  if (header.alg !== key.alg) throw new UnacceptableToken('wrong algorithm for the key')
  return key
}
