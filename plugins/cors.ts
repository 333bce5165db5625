import cors from '@fastify/cors'
import fp from 'fastify-plugin'
import { allowedOrigins } from '../src/origins.js'

/** How long a browser may keep a preflight's answer. */
export const PREFLIGHT_MAX_AGE = 600

// Browsers may call the API from the origins of CORS_ORIGINS only; with none
// (the default) the plugin is not registered at all, so no request pays for
// it and no cross-origin call is allowed. Tokens travel in the Authorization
// header, not in cookies: credentials are not allowed.
export default fp(async app => {
  const origins = allowedOrigins(app.config)
  if (origins.length === 0) return
  await app.register(cors, {
    origin: origins,
    methods: ['GET', 'HEAD', 'POST', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type', 'Accept'],
    maxAge: PREFLIGHT_MAX_AGE,
    // A bare OPTIONS (no Origin) gets an empty 204 rather than a plain-text 400.
    strictPreflight: false
  })
}, { name: 'tessera-cors', dependencies: ['tessera-config'] })
