import cors from '@fastify/cors'
import fp from 'fastify-plugin'
import { CSRF_HEADER } from '../src/auth/csrf.js'
import { allowedOrigins } from '../src/origins.js'

/** How long a browser may keep a preflight's answer. */
export const PREFLIGHT_MAX_AGE = 600

// Browsers may call the API from the origins of CORS_ORIGINS only; with none
// (the default) the plugin is not registered at all, so no request pays for
// it and no cross-origin call is allowed. Credentials (the refresh cookie) are
// allowed only in cookie mode (REFRESH_TOKEN_COOKIE); the CSRF defence of
// cookie requests is separate (plugins/cookies.ts).
export default fp(async app => {
  const origins = allowedOrigins(app.config)
  if (origins.length === 0) return
  await app.register(cors, {
    origin: origins,
    credentials: app.config.refreshTokenCookie,
    methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type', 'Accept', CSRF_HEADER],
    maxAge: PREFLIGHT_MAX_AGE,
    // A bare OPTIONS (no Origin) gets an empty 204 rather than a plain-text 400.
    strictPreflight: false
  })
}, { name: 'tessera-cors', dependencies: ['tessera-config'] })
