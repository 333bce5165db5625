import { createHash, pbkdf2, timingSafeEqual } from 'node:crypto'
import { promisify } from 'node:util'
import argon2 from 'argon2'
import bcrypt from 'bcryptjs'

// Django's password hash formats (django.contrib.auth.hashers), so that users
// imported from Django log in with the password they had. Each verifier
// answers false for a wrong password and for a hash it cannot read; the
// caller rehashes to Tessera's argon2id after the first successful login.

const pbkdf2Async = promisify(pbkdf2)

/** Django's constant-time comparison of two strings. */
function sameText (a: string, b: string): boolean {
  const left = Buffer.from(a)
  const right = Buffer.from(b)
  return left.length === right.length && timingSafeEqual(left, right)
}

/** pbkdf2_sha256$<iterations>$<salt>$<base64 of the 32-byte key>: Django's default. */
async function verifyPbkdf2 (encoded: string, password: string): Promise<boolean> {
  const [, iterationsText, salt, hash] = encoded.split('$')
  if (salt === undefined || hash === undefined || !/^[1-9]\d{0,8}$/.test(iterationsText!)) return false
  const expected = Buffer.from(hash, 'base64')
  const actual = await pbkdf2Async(password, salt, Number(iterationsText), 32, 'sha256')
  return expected.length === actual.length && timingSafeEqual(expected, actual)
}

/** argon2$argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>: Django's prefix before argon2-cffi's PHC string. */
async function verifyArgon2 (encoded: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(encoded.slice('argon2'.length), password)
  } catch {
    return false
  }
}

/** bcrypt_sha256$$2b$…: bcrypt of the hex SHA-256 of the password (bcrypt reads only 72 bytes). */
async function verifyBcryptSha256 (encoded: string, password: string): Promise<boolean> {
  const hex = createHash('sha256').update(password).digest('hex')
  try {
    return await bcrypt.compare(hex, encoded.slice('bcrypt_sha256$'.length))
  } catch {
    return false
  }
}

const md5Hex = (text: string) => createHash('md5').update(text).digest('hex')

/** md5$<salt>$<hex of md5(salt + password)>. */
function verifyMd5 (encoded: string, password: string): boolean {
  const [, salt, hash] = encoded.split('$')
  return hash !== undefined && sameText(md5Hex(salt + password), hash)
}

/** unsalted_md5: 32 hex digits, or md5$$ before them (both forms Django reads). */
function verifyUnsaltedMd5 (encoded: string, password: string): boolean {
  const hash = encoded.startsWith('md5$$') ? encoded.slice('md5$$'.length) : encoded
  return sameText(md5Hex(password), hash)
}

export interface DjangoHashOptions {
  /** md5 and unsalted_md5 hashes are read only when this is set. */
  allowMd5: boolean
}

/** Which Django hasher made a hash, as Django's identify_hasher tells; null for none (argon2id PHC strings, unusable passwords). */
export function djangoAlgorithm (encoded: string): string | null {
  if (/^[0-9a-f]{32}$/.test(encoded) || encoded.startsWith('md5$$')) return 'unsalted_md5'
  const algorithm = encoded.split('$', 1)[0]!
  return ['pbkdf2_sha256', 'argon2', 'bcrypt_sha256', 'md5'].includes(algorithm) ? algorithm : null
}

/** Verifies a password against a Django hash; false when wrong, unreadable, or an md5 hash that is not allowed. */
export async function verifyDjangoHash (encoded: string, password: string, options: DjangoHashOptions): Promise<boolean> {
  switch (djangoAlgorithm(encoded)) {
    case 'pbkdf2_sha256': return await verifyPbkdf2(encoded, password)
    case 'argon2': return await verifyArgon2(encoded, password)
    case 'bcrypt_sha256': return await verifyBcryptSha256(encoded, password)
    case 'md5': return options.allowMd5 && verifyMd5(encoded, password)
    case 'unsalted_md5': return options.allowMd5 && verifyUnsaltedMd5(encoded, password)
    default: return false
  }
}
