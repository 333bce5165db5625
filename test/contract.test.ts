import { readFileSync } from 'node:fs'
import Fastify from 'fastify'
import t from 'tap'
import { OPENAPI_PATH } from '../src/cli/openapi.js'
import { checkResponses, Contract } from './helpers/contract.js'

// The contract helper itself: a response the document does not allow must fail.
const { components } = JSON.parse(readFileSync(OPENAPI_PATH, 'utf8')) as { components: unknown }
const document = {
  paths: {
    '/things/{id}/': {
      get: {
        responses: {
          200: { content: { 'application/json': { schema: { type: 'object', required: ['id'], properties: { id: { type: 'integer' } } } } } },
          204: {},
          401: { content: { 'application/json': { schema: { $ref: '#/components/schemas/AuthenticationError' } } } }
        }
      }
    }
  },
  components
}

async function appUnderContract () {
  const app = Fastify({ ignoreTrailingSlash: true })
  app.get('/things/:id/', async (request, reply) => {
    const query = request.query as Record<string, string>
    if (query.status !== undefined) return reply.code(Number(query.status)).send({ message: 'no detail' })
    if (query.text !== undefined) return reply.type('text/plain').send('hello')
    if (query.broken !== undefined) return reply.type('application/json').send('{"id":')
    if (query.empty !== undefined) return reply.code(204).send()
    return { id: query.bad === undefined ? 7 : 'seven' }
  })
  app.post('/things/:id/', async (_request, reply) => reply.code(405).send({ detail: 'Method "POST" not allowed.' }))
  app.delete('/things/:id/', async (_request, reply) => reply.code(401).send({ detail: 'Authentication credentials were not provided.' }))
  app.put('/things/:id/', async (_request, reply) => reply.code(200).send({}))
  app.get('/undocumented/', async () => ({}))
  app.get('/docs/page', async () => 'html')
  app.setNotFoundHandler(async (_request, reply) => reply.code(404).send({ detail: 'Not found.' }))
  await app.ready()
  t.teardown(() => app.close())
  return checkResponses(app, new Contract(document as never))
}

t.test('responses the document allows pass', async t => {
  const app = await appUnderContract()
  t.equal((await app.inject({ method: 'GET', url: '/things/1/' })).statusCode, 200)
  t.equal((await app.inject('/things/1')).statusCode, 200, 'the trailing slash is optional; the string form is checked too')
  t.equal((await app.inject({ url: '/things/1/?empty=1' })).statusCode, 204, 'a declared status without a body')
  t.equal((await app.inject({ method: 'HEAD', url: '/things/1/' })).statusCode, 200, 'HEAD has GET\'s statuses')
  t.equal((await app.inject({ method: 'POST', url: '/things/1/' })).statusCode, 405, 'another method: its 405')
  t.equal((await app.inject({ method: 'DELETE', url: '/things/1/' })).statusCode, 401, 'another method: the 401 of a protected path')
  t.equal((await app.inject({ method: 'GET', url: '/nowhere/' })).statusCode, 404, 'an unknown path: the 404')
  t.equal((await app.inject({ method: 'GET', url: '/docs/page' })).statusCode, 200, 'the documentation is exempt')
})

t.test('responses the document does not allow fail the test', async t => {
  const app = await appUnderContract()
  await t.rejects(app.inject({ method: 'GET', url: '/things/1/?status=418' }), /status 418 is not in the document for GET \/things\/\{id\}\//)
  await t.rejects(app.inject({ method: 'GET', url: '/things/1/?bad=1' }), /does not match the document: data\/id must be integer/)
  await t.rejects(app.inject({ method: 'GET', url: '/things/1/?text=1' }), /content-type text\/plain, the document says application\/json/)
  await t.rejects(app.inject({ method: 'GET', url: '/things/1/?broken=1' }), /the body is not JSON/)
  await t.rejects(app.inject({ method: 'GET', url: '/things/1/?status=401' }), /does not match the document/, 'a declared status with the wrong body')
  await t.rejects(app.inject({ method: 'PUT', url: '/things/1/' }), /PUT \/things\/1\/ → 200: status 200 is not in the document/)
  await t.rejects(app.inject({ method: 'GET', url: '/undocumented/' }), /GET \/undocumented\/ → 200: status 200 is not in the document/, 'an undocumented route')
  const get = await Fastify().get('/', async () => ({ id: 1 })).inject({ method: 'GET', url: '/' })
  t.match(new Contract(document as never).check('HEAD', '/things/1/', get), [/a body the document does not declare/])
})
