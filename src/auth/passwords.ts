import argon2 from 'argon2'
import { verifyDjangoHash, type DjangoHashOptions } from './django-hashes.js'

export interface Argon2Parameters {
  memoryKib: number
  iterations: number
  parallelism: number
}

export interface PasswordHasher {
  hash: (password: string) => Promise<string>
  /** False for a wrong password and for a hash this hasher cannot read (an unusable password). Reads Django's hashes too. */
  verify: (hash: string, password: string) => Promise<boolean>
  /** True when the hash was made with other parameters than today's, or is not argon2id (Django's hashes). */
  needsRehash: (hash: string) => boolean
  /** Spends one verification's time, for logins of unknown users. */
  spendVerification: (password: string) => Promise<void>
  /** Rejects when a hash would be refused now (a full queue), before any other work is spent on the request. */
  admit: () => Promise<void>
}

export function createPasswordHasher (parameters: Argon2Parameters, django: DjangoHashOptions = { allowMd5: false }): PasswordHasher {
  const options = {
    type: argon2.argon2id as 2,
    memoryCost: parameters.memoryKib,
    timeCost: parameters.iterations,
    parallelism: parameters.parallelism
  }
  const hash = (password: string) => argon2.hash(password, options)
  let dummyHash: Promise<string> | undefined

  return {
    hash,
    async verify (stored, password) {
      if (!stored.startsWith('$argon2')) return await verifyDjangoHash(stored, password, django)
      try {
        return await argon2.verify(stored, password)
      } catch {
        return false
      }
    },
    needsRehash: stored => !stored.startsWith('$argon2id$') || argon2.needsRehash(stored, options),
    // Unbounded (the CLI's): every hash is admitted.
    admit: async () => {},
    async spendVerification (password) {
      // A hash of a random password, made once with today's parameters: it
      // costs what a real user's verification costs, and matches nothing.
      dummyHash ??= hash(crypto.randomUUID())
      await argon2.verify(await dummyHash, password)
    }
  }
}
