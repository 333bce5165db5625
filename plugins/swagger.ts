import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { nameSharedSchemas } from '../src/schemas/components.js'

export const BEARER_AUTH = [{ bearerAuth: [] }]

/** @fastify/swagger-ui's static policy, less what it allows from other hosts (https:, its online validator) and the upgrade of http. */
export function swaggerUiPolicy (policy: string): string {
  return policy.split(';').map(directive => directive.trim()).filter(directive => directive !== '' && directive !== 'upgrade-insecure-requests')
    .map(directive => directive.split(/\s+/).filter(source => source !== 'https:' && source !== 'validator.swagger.io').join(' '))
    .join('; ')
}

// The OpenAPI document, generated from the routes' TypeBox schemas, served at
// /openapi.json, with Swagger UI at /docs (its files are bundled: it works
// with no network).
export default fp(async (app: FastifyInstance) => {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Tessera',
        version: '0.1.0',
        description: 'A JWT authentication API, wire-compatible with Django REST Framework + SimpleJWT.',
        license: { name: 'UNLICENSED', identifier: 'UNLICENSED' }
      },
      servers: [{ url: '/', description: 'This server' }],
      tags: [
        { name: 'tokens', description: 'Obtain, refresh, verify and blacklist JSON web tokens.' },
        { name: 'users', description: 'Registration and the current user.' },
        { name: 'protected', description: 'Example routes that need an access token.' },
        { name: 'keys', description: 'The public keys other services verify tokens with.' },
        { name: 'health', description: 'Liveness and readiness, for load balancers and orchestrators.' },
        { name: 'admin', description: 'User administration and the security event log, for staff users (`is_staff`); others get 403.' }
      ],
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token from POST /api/token/.' }
        }
      }
    },
    // Only the OpenAPI form is generated here (never Swagger 2.0).
    transformObject: document => nameSharedSchemas((document as { openapiObject: object }).openapiObject)
  })
  // SWAGGER_UI=false closes the pages; the document stays at /openapi.json.
  if (app.config.swaggerUi !== false) {
    await app.register(swaggerUi, {
      routePrefix: '/docs',
      uiConfig: { persistAuthorization: false, tryItOutEnabled: false },
      // Swagger UI would otherwise send the document to an online validator.
      validatorUrl: false,
      // A content security policy of its own (the API's allows nothing): its bundled files and the hashes of
      // its inline script and style, nothing from elsewhere.
      staticCSP: true,
      transformStaticCSP: swaggerUiPolicy
    })
  }
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
}, { name: 'tessera-swagger' })
