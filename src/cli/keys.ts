import { existsSync } from 'node:fs'
import { ALGORITHMS, generateStoredKey, isAlgorithm, keySetOf, readKeySetFile, writeKeySetFile, type KeySetFile } from '../auth/key-set.js'
import type { Config } from '../config.js'
import { CommandFailed, parseOptions, type CommandIo } from './io.js'

// Key management on the JWT_KEYS file: add a key, make the newest one sign,
// retire one. Every change is written whole (a rename) and checked first, so
// a running server that reloads the file never sees a broken set.

function keySetPath (config: Config): string {
  if (config.jwtKeys === undefined) throw new CommandFailed('JWT_KEYS is not set: set it to the path of the key-set file')
  return config.jwtKeys
}

function save (path: string, file: KeySetFile): void {
  keySetOf(file, null)
  writeKeySetFile(path, file)
}

/** keys:generate --alg <alg>: a new key; it signs when it is the first, and only verifies until keys:rotate otherwise. */
export async function generateKey (argv: string[], io: CommandIo, config: Config): Promise<void> {
  const options = parseOptions(argv)
  const alg = options.alg ?? 'EdDSA'
  if (!isAlgorithm(alg) || Object.keys(options).some(name => name !== 'alg')) {
    throw new CommandFailed(`usage: keys:generate [--alg ${ALGORITHMS.join('|')}] (EdDSA by default)`)
  }
  const path = keySetPath(config)
  const key = generateStoredKey(alg)
  const file = existsSync(path) ? readKeySetFile(path) : { signing: key.kid, keys: [] }
  file.keys.push(key)
  save(path, file)
  io.stdout.write(file.signing === key.kid
    ? `Created ${path} with key ${key.kid} (${alg}), which signs.\n`
    : `Added key ${key.kid} (${alg}); it verifies only. Once the JWKS has published it, run keys:rotate to sign with it.\n`)
}

/** keys:rotate: the newest key signs; the previous signer keeps verifying until it is retired. */
export async function rotateKeys (argv: string[], io: CommandIo, config: Config): Promise<void> {
  if (argv.length > 0) throw new CommandFailed('usage: keys:rotate')
  const path = keySetPath(config)
  const file = readKeySetFile(path)
  const newest = file.keys.reduce<KeySetFile['keys'][number] | undefined>((latest, key) => latest === undefined || key.created >= latest.created ? key : latest, undefined)
  if (newest === undefined) throw new CommandFailed('the key set has no keys: run keys:generate')
  if (newest.kid === file.signing) {
    io.stdout.write(`Key ${newest.kid} already signs: run keys:generate first to add a new key.\n`)
    return
  }
  const previous = file.signing
  file.signing = newest.kid
  save(path, file)
  io.stdout.write(`Key ${newest.kid} signs now; ${previous} only verifies. Retire it (keys:retire ${previous}) once the tokens it signed have expired.\n`)
}

/** keys:retire <kid>: removes a key; tokens it signed are refused from then on. */
export async function retireKey (argv: string[], io: CommandIo, config: Config): Promise<void> {
  if (argv.length !== 1 || argv[0]!.startsWith('--')) throw new CommandFailed('usage: keys:retire <kid>')
  const kid = argv[0]!
  const path = keySetPath(config)
  const file = readKeySetFile(path)
  if (!file.keys.some(key => key.kid === kid)) throw new CommandFailed(`no key ${kid} in ${path}`)
  if (kid === file.signing) throw new CommandFailed(`key ${kid} signs: run keys:rotate to another key before retiring it`)
  file.keys = file.keys.filter(key => key.kid !== kid)
  save(path, file)
  io.stdout.write(`Retired key ${kid}.\n`)
}
