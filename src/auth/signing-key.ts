import { randomBytes } from 'node:crypto'
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export const MIN_KEY_BYTES = 32

export interface GeneratedKey { key: string, path: string | null, created: boolean }

/** 256 random bits, as text (the same text works as Django's SIGNING_KEY). */
export const generateSigningKey = () => randomBytes(32).toString('base64url')

/**
 * The key kept in DATA_DIR/signing-key, made on first start, readable by its
 * owner only. With no folder (an in-memory database) the key lives as long as
 * the process.
 */
export function loadOrCreateSigningKey (dataDir: string | null): GeneratedKey {
  if (dataDir === null) return { key: generateSigningKey(), path: null, created: true }
  const path = join(dataDir, 'signing-key')
  try {
    const key = readFileSync(path, 'utf8').trim()
    if (Buffer.byteLength(key) < MIN_KEY_BYTES) throw new Error(`${path} holds a key shorter than ${MIN_KEY_BYTES} bytes; delete it to make a new one`)
    return { key, path, created: false }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const key = generateSigningKey()
  writeFileSync(path, key + '\n', { mode: 0o600, flag: 'wx' })
  chmodSync(path, 0o600)
  return { key, path, created: true }
}
