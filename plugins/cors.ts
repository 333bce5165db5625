import fastifyCors from '@fastify/cors'
import fp from 'fastify-plugin'
import { allowedOrigins } from '../src/origins.js'

// CORS for browser apps on other origins (CORS_ORIGINS): their requests,
// credentials (the refresh cookie) included, and their preflights. None by
// default. The CSRF defence of cookie requests is separate (plugins/cookies.ts).
export default fp(async app => {
  const origins = allowedOrigins(app.config)
  if (origins.length === 0) return
  await app.register(fastifyCors, { origin: origins, credentials: true, methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'] })
}, { name: 'tessera-cors', dependencies: ['tessera-config'] })
