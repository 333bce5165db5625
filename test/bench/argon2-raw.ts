import { verify as verifyNodeRs, hash as hashNodeRs } from '@node-rs/argon2'
import argon2 from 'argon2'

// Raw argon2id verifications per second, `concurrency` at a time for
// `seconds`, at the given parameters: with `argon2` (Tessera's) or
// `@node-rs/argon2` (for comparison only). Prints one JSON line.
const [library, concurrency, seconds, memoryKib, iterations, parallelism] =
  [process.argv[2]!, ...process.argv.slice(3, 8).map(Number)] as [string, number, number, number, number, number]
const password = 'correct-horse-battery-staple'
const options = { memoryCost: memoryKib, timeCost: iterations, parallelism }
const verify = library === 'argon2'
  ? await (async () => {
    const stored = await argon2.hash(password, { ...options, type: argon2.argon2id })
    return () => argon2.verify(stored, password)
  })()
  : await (async () => {
    // Algorithm.Argon2id is 2 (a const enum, not importable under isolatedModules).
    const stored = await hashNodeRs(password, { ...options, algorithm: 2 })
    return () => verifyNodeRs(stored, password)
  })()

let done = 0
const deadline = Date.now() + seconds * 1000
await Promise.all(Array.from({ length: concurrency }, async () => {
  while (Date.now() < deadline) {
    if (!await verify()) throw new Error('verification failed')
    done++
  }
}))
process.stdout.write(`${JSON.stringify({ library, concurrency, perSecond: done / seconds })}\n`)
