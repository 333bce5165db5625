import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { sql } from 'drizzle-orm'
import { refuseOtherMethods } from '../plugins/method-not-allowed.js'
import { isDatabaseUnavailable } from '../src/db/errors.js'
import { serviceUnavailable } from '../src/errors.js'
import { errorResponses } from '../src/schemas/errors.js'

export const LIVE_PATH = '/health/live/'
export const READY_PATH = '/health/ready/'

const Healthy = Type.Object({ status: Type.Literal('ok') }, { description: 'Healthy.', examples: [{ status: 'ok' }] })
const tags = ['health']

// For load balancers and orchestrators. Liveness says the process answers
// (restart it when it does not); readiness says it can serve now (send it
// traffic): the database answers and the process is not overloaded.
export default async function healthRoutes (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.get(LIVE_PATH, {
    schema: {
      operationId: 'live',
      summary: 'Liveness',
      description: 'Answers 200 while the process runs, without touching the database, even when overloaded.',
      tags,
      response: { 200: Healthy, ...errorResponses({ body: null }) }
    },
    // Load shedding (plugins/overload.ts) lets this through: an overloaded process is alive.
    config: { shedLoad: false }
  }, async () => ({ status: 'ok' as const }))
  refuseOtherMethods(app, LIVE_PATH, ['GET'])

  app.get(READY_PATH, {
    schema: {
      operationId: 'ready',
      summary: 'Readiness',
      description: 'Answers 200 when the database answers a query within DATABASE_TIMEOUT, and 503 while it ' +
        'does not, and while the process is overloaded.',
      tags,
      response: { 200: Healthy, ...errorResponses({ body: null }) }
    }
  }, async () => {
    try {
      await app.database.db.execute(sql`select 1`)
    } catch (error) {
      if (isDatabaseUnavailable(error)) throw serviceUnavailable()
      /* c8 ignore next 2: `select 1` fails only when the database is unreachable */
      throw error
    }
    return { status: 'ok' as const }
  })
  refuseOtherMethods(app, READY_PATH, ['GET'])
}
