import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { refuseOtherMethods } from '../plugins/method-not-allowed.js'
import { errorResponses } from '../src/schemas/errors.js'

/** Long enough to spare the server, short against a rotation: publish a key (keys:generate) this long before it signs. */
export const JWKS_MAX_AGE = 300
export const JWKS_PATH = '/.well-known/jwks.json'

// Only the members of a public key: the response schema drops anything else
// (a private d, p, q or an HMAC k) even if it were handed over.
const PublicJwk = Type.Object({
  kty: Type.String({ description: 'RSA, EC or OKP' }),
  kid: Type.String(),
  alg: Type.String({ description: 'RS256, PS256, ES256 or EdDSA' }),
  use: Type.Literal('sig'),
  n: Type.Optional(Type.String()),
  e: Type.Optional(Type.String()),
  crv: Type.Optional(Type.String()),
  x: Type.Optional(Type.String()),
  y: Type.Optional(Type.String())
})
const Jwks = Type.Object({ keys: Type.Array(PublicJwk) }, {
  description: 'The public keys that verify Tessera\'s tokens (RFC 7517). HMAC secrets are never published.',
  examples: [{ keys: [{ kty: 'OKP', kid: 'q1OgHnJ3yS0mdWK4', alg: 'EdDSA', use: 'sig', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' }] }]
})

// Public: a service that checks Tessera's tokens fetches this, and holds no secret.
export default async function jwksRoutes (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.get(JWKS_PATH, {
    schema: {
      operationId: 'getJwks',
      summary: 'The public signing keys (JWKS)',
      description: 'The public keys of the key set, by kid: the signing key and those that still verify. ' +
        `Cached for ${JWKS_MAX_AGE} seconds (Cache-Control). Empty while Tessera signs with an HMAC secret only.`,
      tags: ['keys'],
      response: { 200: Jwks, ...errorResponses({ body: null }) }
    }
  }, async (request, reply) => {
    reply.header('cache-control', `public, max-age=${JWKS_MAX_AGE}`)
    return app.keySet.jwks()
  })
  refuseOtherMethods(app, JWKS_PATH, ['GET'])
}
