import { constants, createHmac, createPrivateKey, sign, type JsonWebKey } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateStoredKey, writeKeySetFile, type Algorithm, type KeySetFile, type StoredKey } from '../../src/auth/key-set.js'
import { base64url } from './jwt.js'

// Signs any header and payload text with a stored key, with node:crypto only
// (RFC 7518 / RFC 8037), so that tests craft validly signed tokens that break
// one rule at a time.

const HASHES: Record<Algorithm, string | null> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512', RS256: 'sha256', PS256: 'sha256', ES256: 'sha256', EdDSA: null }

export function signature (key: StoredKey | JsonWebKey & { alg: Algorithm }, signingInput: string): string {
  const alg = key.alg
  if (alg.startsWith('HS')) return createHmac(HASHES[alg]!, Buffer.from(key.k!, 'base64url')).update(signingInput).digest('base64url')
  const privateKey = createPrivateKey({ key, format: 'jwk' })
  const options = alg === 'PS256'
    ? { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }
    : alg === 'ES256' ? { key: privateKey, dsaEncoding: 'ieee-p1363' as const } : privateKey
  return sign(HASHES[alg], Buffer.from(signingInput), options).toString('base64url')
}

/** A compact JWS of exact header and payload texts (or objects), signed by the key. */
export function signToken (key: StoredKey, header: Record<string, unknown> | string, payload: Record<string, unknown> | string): string {
  const text = (value: Record<string, unknown> | string) => typeof value === 'string' ? value : JSON.stringify(value)
  const signingInput = `${base64url(text(header))}.${base64url(text(payload))}`
  return `${signingInput}.${signature(key, signingInput)}`
}

/** A key-set file in a folder of its own, removed at teardown. */
export function writeTestKeySet (t: { teardown: (fn: () => unknown) => void }, algorithms: Algorithm[]): { path: string, file: KeySetFile } {
  const folder = mkdtempSync(join(tmpdir(), 'tessera-keys-'))
  t.teardown(() => rmSync(folder, { recursive: true, force: true }))
  const keys = algorithms.map((alg, i) => generateStoredKey(alg, new Date(Date.UTC(2026, 0, 1, 0, 0, i))))
  const file = { signing: keys[0]!.kid, keys }
  const path = join(folder, 'keys.json')
  writeKeySetFile(path, file)
  return { path, file }
}
