import { unwatchFile, watchFile } from 'node:fs'
import fastifyJwt from '@fastify/jwt'
import { createSigner, createVerifier } from 'fast-jwt'
import fp from 'fastify-plugin'
import { MEMORY_DATA_DIR } from '../src/db/index.js'
import { selectVerificationKey } from '../src/auth/jws.js'
import { VerifiedTokenCache } from '../src/auth/verified-tokens.js'
import { keySetOf, publicJwks, readKeySetFile, shortcutKey, shortcutKeySet, type KeySet, type VerificationKey } from '../src/auth/key-set.js'
import { loadOrCreateSigningKey } from '../src/auth/signing-key.js'
import { standardClaims, type TokenClaims } from '../src/tokens/claims.js'
import type { TokenDeps } from '../src/tokens/service.js'

declare module 'fastify' {
  interface FastifyInstance {
    tokens: TokenDeps
    /** The key set in use: reloaded when the JWT_KEYS file changes. */
    keySet: { jwks: () => ReturnType<typeof publicJwks>, reload: () => void }
    /** Tokens whose signature was checked (VERIFIED_TOKEN_CACHE_SIZE). */
    verifiedTokens: VerifiedTokenCache
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
  const now = () => Math.floor(Date.now() / 1000)
  const verified = new VerifiedTokenCache(config.verifiedTokenCacheSize, now)

  const reload = () => {
    try {
      keySet = load()
      // A key may have gone: nothing it verified is trusted any more.
      verified.clear()
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

  // @fastify/jwt builds a new fast-jwt signer or verifier on every call given
  // its own key; built once per key here (a reload makes new key objects, so
  // retired keys' functions go with them), the hot path reuses them.
  const signers = new WeakMap<VerificationKey, Map<string, (claims: object) => string>>()
  const verifiers = new WeakMap<VerificationKey, (token: string) => Record<string, unknown>>()
  const signerOf = (key: VerificationKey, typ: string) => {
    let byType = signers.get(key)
    if (byType === undefined) signers.set(key, byType = new Map())
    let sign = byType.get(typ)
    if (sign === undefined) {
      // fast-jwt reads `typ` (its type declarations leave it out).
      const options = { key: key.signingKey, algorithm: key.alg, typ, ...(key.kid === null ? {} : { kid: key.kid }) }
      sign = createSigner(options)
      byType.set(typ, sign)
    }
    return sign
  }
  const verifierOf = (key: VerificationKey) => {
    let verify = verifiers.get(key)
    if (verify === undefined) {
      // No cache of fast-jwt's: the verified-token cache in front of it answers repeats without hashing the token.
      verify = createVerifier({ key: key.verifyingKey, algorithms: [key.alg], ignoreExpiration: true, ignoreNotBefore: true })
      verifiers.set(key, verify)
    }
    return verify
  }

  app.decorate('keySet', { jwks: () => publicJwks(keySet), reload })
  app.decorate('verifiedTokens', verified)
  app.decorate('tokens', {
    db: app.database.db,
    settings: config,
    sign: claims => {
      const { signer } = keySet
      const { token_type: tokenType, user_id: userId } = claims as TokenClaims
      // The shortcut key signs without a kid: the header stays {"alg":"HS256","typ":"JWT"}.
      const typ = tokenType === 'access' && config.jwtAccessTokenType === 'at+jwt' ? 'at+jwt' : 'JWT'
      return signerOf(signer, typ)({ ...claims, ...standardClaims(config, userId) })
    },
    verifySignature: token => verified.get(token) ?? verified.set(token, verifierOf(selectVerificationKey(keySet, token))(token)),
    now,
    sessions: app.sessions,
    events: app.securityEvents
  } satisfies TokenDeps)
}, { name: 'tessera-jwt', dependencies: ['tessera-config', 'tessera-db', 'tessera-sessions', 'tessera-security-events'] })
