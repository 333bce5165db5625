import { createPrivateKey, createPublicKey, createSecretKey, generateKeyPairSync, randomBytes, type JsonWebKey } from 'node:crypto'
import { chmodSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'

// The signing keys: a key-set file of private JWKs (RFC 7517), one of which
// signs while the others only verify until they are retired. JWK is the
// format node:crypto reads and writes for every key type (oct, RSA, EC, OKP)
// and the one the JWKS endpoint publishes; one file, replaced by a rename, is
// never seen half-written by a server that reloads it.

export const ALGORITHMS = ['HS256', 'HS384', 'HS512', 'RS256', 'PS256', 'ES256', 'EdDSA'] as const
export type Algorithm = typeof ALGORITHMS[number]
export const isAlgorithm = (value: unknown): value is Algorithm => ALGORITHMS.includes(value as Algorithm)
const isHmac = (alg: Algorithm) => alg.startsWith('HS')

/** A kid is short and plain, so that it can never be a path, a query or a flood. */
export const KID = /^[A-Za-z0-9_-]{1,64}$/

export interface VerificationKey {
  /** null for the JWT_SIGNING_KEY shortcut, whose tokens carry no kid. */
  kid: string | null
  alg: Algorithm
  /** What the JWT library signs with: the secret, or the private key in PEM. */
  signingKey: Buffer | string
  /** What it verifies with: the secret, or the public key in PEM. */
  verifyingKey: Buffer | string
  /** The public JWK, for the JWKS endpoint; null for an HMAC secret, which is never published. */
  publicJwk: PublicJwk | null
}

export interface PublicJwk { kty: string, kid: string, alg: Algorithm, use: 'sig', n?: string, e?: string, crv?: string, x?: string, y?: string }

export interface KeySet {
  signer: VerificationKey
  /** Every key by kid ('' for the shortcut key). */
  keys: Map<string, VerificationKey>
}

/** One key as stored in the file: a private JWK with its kid, alg and when it was made. */
export type StoredKey = JsonWebKey & { kid: string, alg: Algorithm, created: string }
export interface KeySetFile { signing: string, keys: StoredKey[] }

export class KeySetError extends Error {
  override name = 'KeySetError'
}

const MIN_SECRET_BYTES = 32
const PUBLIC_MEMBERS = ['kty', 'crv', 'n', 'e', 'x', 'y'] as const
const KEY_TYPES: Record<Algorithm, string> = { HS256: 'oct', HS384: 'oct', HS512: 'oct', RS256: 'RSA', PS256: 'RSA', ES256: 'EC', EdDSA: 'OKP' }

/** The one-HS-key shortcut (JWT_SIGNING_KEY, or the key generated into DATA_DIR). */
export function shortcutKey (secret: string, alg: Algorithm): VerificationKey {
  const bytes = Buffer.from(secret)
  return { kid: null, alg, signingKey: bytes, verifyingKey: bytes, publicJwk: null }
}

/** A stored key, checked: its kty fits its alg, and node:crypto can read it. */
export function keyFromJwk (stored: StoredKey): VerificationKey {
  const { kid, alg } = stored
  if (typeof kid !== 'string' || !KID.test(kid)) throw new KeySetError(`a key has no valid kid (1 to 64 of A-Z a-z 0-9 _ -): ${JSON.stringify(kid)}`)
  if (!isAlgorithm(alg)) throw new KeySetError(`key ${kid}: alg must be one of ${ALGORITHMS.join(', ')}`)
  if (stored.kty !== KEY_TYPES[alg]) throw new KeySetError(`key ${kid}: ${alg} needs a key of type ${KEY_TYPES[alg]}`)
  try {
    if (isHmac(alg)) {
      const secret = createSecretKey(Buffer.from(stored.k ?? '', 'base64url')).export()
      if (secret.length < MIN_SECRET_BYTES) throw new KeySetError(`key ${kid}: an HMAC secret needs at least ${MIN_SECRET_BYTES} bytes`)
      return { kid, alg, signingKey: secret, verifyingKey: secret, publicJwk: null }
    }
    if (alg === 'ES256' && stored.crv !== 'P-256') throw new KeySetError(`key ${kid}: ES256 needs the P-256 curve`)
    if (alg === 'EdDSA' && stored.crv !== 'Ed25519') throw new KeySetError(`key ${kid}: EdDSA keys here are Ed25519`)
    const privateKey = createPrivateKey({ key: stored, format: 'jwk' })
    const publicKey = createPublicKey(privateKey)
    const jwk = publicKey.export({ format: 'jwk' }) as Record<string, string>
    const publicJwk = { kid, alg, use: 'sig' } as PublicJwk
    for (const member of PUBLIC_MEMBERS) if (jwk[member] !== undefined) publicJwk[member] = jwk[member]
    return {
      kid,
      alg,
      signingKey: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
      verifyingKey: publicKey.export({ format: 'pem', type: 'spki' }) as string,
      publicJwk
    }
  } catch (error) {
    if (error instanceof KeySetError) throw error
    throw new KeySetError(`key ${kid}: not a usable ${alg} private key (${(error as Error).message})`)
  }
}

/** Parses and checks the text of a key-set file. */
export function parseKeySetFile (text: string): KeySetFile {
  let file: KeySetFile
  try {
    file = JSON.parse(text)
  } catch {
    throw new KeySetError('the key set is not JSON')
  }
  if (typeof file !== 'object' || file === null || !Array.isArray(file.keys) || typeof file.signing !== 'string') {
    throw new KeySetError('the key set must be {"signing": "<kid>", "keys": [<private JWK>, ...]}')
  }
  return file
}

/** The usable key set of a file, with the shortcut key (if any) kept for verification of tokens without kid. */
export function keySetOf (file: KeySetFile, shortcut: VerificationKey | null): KeySet {
  const keys = new Map<string, VerificationKey>()
  if (shortcut !== null) keys.set('', shortcut)
  for (const stored of file.keys) {
    const key = keyFromJwk(stored)
    if (keys.has(key.kid!)) throw new KeySetError(`kid ${key.kid} appears twice`)
    keys.set(key.kid!, key)
  }
  const signer = keys.get(file.signing)
  if (signer === undefined || file.signing === '') throw new KeySetError(`the signing key ${JSON.stringify(file.signing)} is not in the set`)
  return { signer, keys }
}

/** A key set of only the shortcut key: it signs and verifies. */
export const shortcutKeySet = (shortcut: VerificationKey): KeySet => ({ signer: shortcut, keys: new Map([['', shortcut]]) })

/** Reads a key-set file, refusing one that others than its owner can read. */
export function readKeySetFile (path: string): KeySetFile {
  let text: string
  try {
    if ((statSync(path).mode & 0o077) !== 0) throw new KeySetError(`${path} is readable by others than its owner: chmod 600 it`)
    text = readFileSync(path, 'utf8')
  } catch (error) {
    if (error instanceof KeySetError) throw error
    throw new KeySetError(`cannot read the key set ${path}: ${(error as NodeJS.ErrnoException).code}`)
  }
  return parseKeySetFile(text)
}

/** Writes a key-set file for its owner only, by a rename so that no reader sees half of it. */
export function writeKeySetFile (path: string, file: KeySetFile): void {
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  writeFileSync(temporary, JSON.stringify(file, null, 2) + '\n', { mode: 0o600, flag: 'wx' })
  chmodSync(temporary, 0o600)
  renameSync(temporary, path)
}

const HMAC_BYTES: Record<string, number> = { HS256: 32, HS384: 48, HS512: 64 }

/** A new private JWK for an algorithm, with a random kid. */
export function generateStoredKey (alg: Algorithm, now: Date = new Date()): StoredKey {
  const kid = randomBytes(12).toString('base64url')
  const created = now.toISOString()
  if (isHmac(alg)) return { kty: 'oct', k: randomBytes(HMAC_BYTES[alg]!).toString('base64url'), kid, alg, created }
  const pair = alg === 'EdDSA'
    ? generateKeyPairSync('ed25519')
    : alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 })
  return { ...pair.privateKey.export({ format: 'jwk' }), kid, alg, created }
}

/** The public keys of a set, as a JWKS: never a secret. */
export function publicJwks (set: KeySet): { keys: PublicJwk[] } {
  return { keys: [...set.keys.values()].flatMap(key => key.publicJwk === null ? [] : [key.publicJwk]) }
}
