import { unwatchFile, watchFile } from 'node:fs'
import fastifyJwt from '@fastify/jwt'
import fp from 'fastify-plugin'
import { MEMORY_DATA_DIR } from '../src/db/index.js'
import { selectVerificationKey } from '../src/auth/jws.js'
import { keySetOf, publicJwks, readKeySetFile, shortcutKey, shortcutKeySet, type KeySet, type VerificationKey } from '../src/auth/key-set.js'
import { loadOrCreateSigningKey } from '../src/auth/signing-key.js'
import { standardClaims, type TokenClaims } from '../src/tokens/claims.js'
import type { TokenDeps } from '../src/tokens/service.js'

declare module 'fastify' {
  interface FastifyInstance {
    tokens: TokenDeps
    /** The key set in use: reloaded when the JWT_KEYS file changes. */
    keySet: { jwks: () => ReturnType<typeof publicJwks>, reload: () => void }
  }
}

/** How often the JWT_KEYS file is checked for a change (fs.watchFile polls: it works on every file system). */
export const KEY_SET_POLL_MS = 1000

// JWT signing and signature checks through @fastify/jwt (fast-jwt), with the
// key the header names (src/auth/jws.ts); the token rules of SimpleJWT sit
// in src/tokens.
export default fp(async app => {
  const { config } = app
  let shortcut: VerificationKey | null = null
  if (config.jwtSigningKey !== undefined) {
    shortcut = shortcutKey(config.jwtSigningKey, config.jwtAlgorithm)
  } else if (config.jwtKeys === undefined) {
    const generated = loadOrCreateSigningKey(config.dataDir === MEMORY_DATA_DIR ? null : config.dataDir)
    shortcut = shortcutKey(generated.key, config.jwtAlgorithm)
    app.log.warn({ path: generated.path, created: generated.created },
      'JWT_SIGNING_KEY is not set: using a generated key. Set JWT_SIGNING_KEY or JWT_KEYS to share keys between instances.')
  }
  const path = config.jwtKeys
  const load = (): KeySet => path === undefined ? shortcutKeySet(shortcut!) : keySetOf(readKeySetFile(path), shortcut)
  let keySet = load()

  const reload = () => {
    try {
      keySet = load()
      app.log.info({ signing: keySet.signer.kid, keys: keySet.keys.size }, 'key set reloaded')
    } catch (error) {
      // A broken file must not stop a running server: the keys it had stay.
      app.log.error({ err: error }, 'key set not reloaded: keeping the previous keys')
    }
  }
  if (path !== undefined) {
    watchFile(path, { interval: KEY_SET_POLL_MS, persistent: false }, reload)
    app.addHook('onClose', async () => unwatchFile(path, reload))
  }

  await app.register(fastifyJwt, {
    // Every call below names its key and algorithm; this is the shortcut key's
    // (or the signer's at start-up) only because the plugin wants one.
    secret: { private: keySet.signer.signingKey, public: keySet.signer.verifyingKey },
    sign: { algorithm: keySet.signer.alg },
    // Expiry and the other claims are checked in src/tokens/claims.ts, with
    // SimpleJWT's messages; here only the signature and algorithm.
    verify: { algorithms: [keySet.signer.alg], ignoreExpiration: true, ignoreNotBefore: true }
  })

  app.decorate('keySet', { jwks: () => publicJwks(keySet), reload })
  app.decorate('tokens', {
    db: app.database.db,
    settings: config,
    sign: claims => {
      const { signer } = keySet
      const { token_type: tokenType, user_id: userId } = claims as TokenClaims
      // The shortcut key signs without a kid: the header stays {"alg":"HS256","typ":"JWT"}.
      return app.jwt.sign({ ...claims, ...standardClaims(config, userId) }, {
        key: signer.signingKey,
        algorithm: signer.alg,
        ...(signer.kid === null ? {} : { kid: signer.kid }),
        ...(tokenType === 'access' && config.jwtAccessTokenType === 'at+jwt' ? { typ: 'at+jwt' } : {})
      })
    },
    verifySignature: token => {
      const key = selectVerificationKey(keySet, token)
      return app.jwt.verify<Record<string, unknown>>(token, { key: key.verifyingKey, algorithms: [key.alg] })
    },
    now: () => Math.floor(Date.now() / 1000)
  } satisfies TokenDeps)
}, { name: 'tessera-jwt', dependencies: ['tessera-config', 'tessera-db'] })
