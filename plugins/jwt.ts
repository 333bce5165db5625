import fastifyJwt from '@fastify/jwt'
import fp from 'fastify-plugin'
import { MEMORY_DATA_DIR } from '../src/db/index.js'
import { loadOrCreateSigningKey } from '../src/auth/signing-key.js'
import type { TokenDeps } from '../src/tokens/service.js'

declare module 'fastify' {
  interface FastifyInstance {
    tokens: TokenDeps
  }
}

// JWT signing and signature checks through @fastify/jwt (fast-jwt), with the
// one configured algorithm; the token rules of SimpleJWT sit in src/tokens.
export default fp(async app => {
  const { config } = app
  let key = config.jwtSigningKey
  if (key === undefined) {
    const generated = loadOrCreateSigningKey(config.dataDir === MEMORY_DATA_DIR ? null : config.dataDir)
    key = generated.key
    app.log.warn({ path: generated.path, created: generated.created },
      'JWT_SIGNING_KEY is not set: using a generated key. Set JWT_SIGNING_KEY to share one key between instances.')
  }
  await app.register(fastifyJwt, {
    secret: key,
    sign: { algorithm: config.jwtAlgorithm },
    // Expiry and the other claims are checked in src/tokens/claims.ts, with
    // SimpleJWT's messages; here only the signature and algorithm.
    verify: { algorithms: [config.jwtAlgorithm], ignoreExpiration: true, ignoreNotBefore: true, cache: true }
  })
  app.decorate('tokens', {
    db: app.database.db,
    settings: config,
    sign: claims => app.jwt.sign(claims),
    verifySignature: token => app.jwt.verify<Record<string, unknown>>(token),
    now: () => Math.floor(Date.now() / 1000),
    sessions: app.sessions
  } satisfies TokenDeps)
}, { name: 'tessera-jwt', dependencies: ['tessera-config', 'tessera-db', 'tessera-sessions'] })
