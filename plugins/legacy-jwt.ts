import { createVerifier } from 'fast-jwt'
import fp from 'fastify-plugin'

// The cut-over from DRF + SimpleJWT: with LEGACY_SIMPLEJWT_SIGNING_KEY and
// LEGACY_SIMPLEJWT_UNTIL, a token that fails the signature check under
// Tessera's key is checked under the Django project's key (HS256, SimpleJWT's
// default), until that date. Everything after the signature (expiry, token
// type, the user, the blacklist) is the same as for Tessera's own tokens: an
// access token works on protected routes until it expires, and a refresh
// token at /api/token/refresh/ gets a Tessera pair, once (rotation with the
// blacklist, the defaults, records and blacklists it). After the date such
// tokens are refused as any bad token is.
export default fp(async app => {
  const { config } = app
  const key = config.legacySimplejwtSigningKey
  // The two settings go together and the date is real: src/config.ts checks it before anything opens.
  if (key === undefined || config.legacySimplejwtUntil === undefined) return
  const until = Date.parse(config.legacySimplejwtUntil) / 1000

  // Expiry is SimpleJWT's check, in src/tokens/claims.ts, as for Tessera's tokens.
  const verifyLegacy = createVerifier({ key, algorithms: ['HS256'], ignoreExpiration: true, ignoreNotBefore: true })
  const tokens = app.tokens
  const verifySignature = tokens.verifySignature
  tokens.verifySignature = token => {
    try {
      return verifySignature(token)
    } catch (error) {
      if (tokens.now() >= until) throw error
      return verifyLegacy(token) as Record<string, unknown>
    }
  }
  app.log.info({ until: new Date(until * 1000).toISOString() }, 'accepting SimpleJWT tokens of the Django project during the cut-over')
}, { name: 'tessera-legacy-jwt', dependencies: ['tessera-config', 'tessera-jwt'] })
