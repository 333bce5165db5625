import { readFileSync } from 'node:fs'
import t from 'tap'
import { generateOpenApi, OPENAPI_PATH } from '../src/cli/openapi.js'
import { nameSharedSchemas } from '../src/schemas/components.js'
import { buildTestApp } from './helpers/app.js'

interface Operation {
  operationId?: string
  summary?: string
  description?: string
  tags?: string[]
  security?: unknown
  requestBody?: { content: Record<string, { example?: unknown }> }
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>
}
interface Document { openapi: string, paths: Record<string, Record<string, Operation>> }

t.test('the committed openapi/openapi.json is what the code generates (run `npm run openapi`)', async t => {
  t.equal(readFileSync(OPENAPI_PATH, 'utf8'), await generateOpenApi())
})

t.test('the document describes every route, its bodies and every error', async t => {
  const document = JSON.parse(await generateOpenApi()) as Document
  t.equal(document.openapi, '3.1.0')
  const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ path, method, operation })))
  t.same(operations.map(o => `${o.method.toUpperCase()} ${o.path}`).sort(), [
    'DELETE /api/admin/users/{id}/', 'DELETE /api/admin/users/{id}/sessions/',
    'DELETE /api/sessions/{id}/', 'GET /.well-known/jwks.json',
    'GET /api/admin/events/', 'GET /api/admin/users/', 'GET /api/admin/users/{id}/',
    'GET /api/sessions/', 'GET /api/users/me/', 'GET /api/users/me/events/', 'GET /health/live/', 'GET /health/ready/', 'GET /private/', 'GET /protected/',
    'PATCH /api/admin/users/{id}/', 'POST /api/admin/users/', 'POST /api/admin/users/{id}/password/',
    'POST /api/token/', 'POST /api/token/blacklist/', 'POST /api/token/logout/', 'POST /api/token/refresh/', 'POST /api/token/verify/',
    'POST /api/users/me/password/', 'POST /login/', 'POST /register/'
  ])
  const ids = new Set<string>()
  for (const { path, method, operation } of operations) {
    const name = `${method.toUpperCase()} ${path}`
    t.ok(operation.operationId, `${name} has an operationId`)
    t.notOk(ids.has(operation.operationId!), `${name}'s operationId is unique`)
    ids.add(operation.operationId!)
    t.ok(operation.summary, `${name} has a summary`)
    t.ok(operation.description, `${name} has a description`)
    t.equal(operation.tags?.length, 1, `${name} has a tag`)
    for (const [status, response] of Object.entries(operation.responses)) {
      // A 204 has no body to describe.
      if (status === '204') t.notOk(response.content, `${name} 204 has no body`)
      else t.ok(response.content?.['application/json']?.schema, `${name} ${status} has a JSON body schema`)
    }
    const statuses = Object.keys(operation.responses)
    for (const status of ['405', '406', '500', '503']) t.ok(statuses.includes(status), `${name} documents ${status}`)
    const throttled = ['/api/token/', '/login/', '/register/', '/api/token/refresh/'].includes(path)
    t.equal(statuses.includes('429'), throttled, `${name} documents 429 when throttled`)
    if (path.startsWith('/api/admin/')) {
      t.same(operation.tags, ['admin'], `${name} is tagged admin`)
      t.same(operation.responses['403']?.content?.['application/json']?.schema, { $ref: '#/components/schemas/Detail' }, `${name} documents its 403`)
    }
    if (method === 'post' || method === 'patch') {
      t.same(Object.keys(operation.requestBody!.content), ['application/json', 'application/x-www-form-urlencoded'], `${name} takes JSON and forms`)
      t.ok(operation.requestBody!.content['application/json']!.example, `${name} has a request example`)
      for (const status of ['400', '413', '415']) t.ok(statuses.includes(status), `${name} documents ${status}`)
    }
    const tokenFree = path === '/.well-known/jwks.json' || path.startsWith('/health/')
    const isPublic = tokenFree ||
      (method === 'post' && !['/api/token/logout/', '/api/users/me/password/'].includes(path) && !path.startsWith('/api/admin/'))
    t.equal(statuses.includes('401'), path !== '/register/' && !tokenFree, `${name} documents 401 unless public and token-free`)
    t.same(operation.security, isPublic ? [] : [{ bearerAuth: [] }], `${name} security (public: an empty list)`)
  }
})

t.test('the shared shapes are named components, referenced by the responses', async t => {
  const document = JSON.parse(await generateOpenApi()) as Document & { components: { schemas: Record<string, unknown> } }
  t.same(Object.keys(document.components.schemas).sort(),
    ['AdminUser', 'AuthenticationError', 'Detail', 'RefreshedTokens', 'RegisteredUser', 'SecurityEventPage', 'ServiceUnavailable', 'TokenPair', 'User', 'ValidationError'])
  const schema = (path: string, method: string, status: string) =>
    document.paths[path]![method]!.responses[status]!.content!['application/json']!.schema
  t.same(schema('/api/token/', 'post', '200'), { $ref: '#/components/schemas/TokenPair' })
  t.same(schema('/api/token/', 'post', '401'), { $ref: '#/components/schemas/AuthenticationError' })
  t.same(schema('/protected/', 'get', '405'), { $ref: '#/components/schemas/Detail' })
  t.same(schema('/api/users/me/', 'get', '200'), { $ref: '#/components/schemas/User' })
  t.same(schema('/health/ready/', 'get', '503'), { $ref: '#/components/schemas/ServiceUnavailable' })
  t.same(schema('/register/', 'post', '400'), {
    allOf: [{ $ref: '#/components/schemas/ValidationError' }, {
      type: 'object',
      properties: Object.fromEntries(['username', 'email', 'password'].map(field => [field, { type: 'array', items: { type: 'string' } }]))
    }]
  })
  t.match(schema('/protected/', 'get', '200'), { type: 'object', required: ['content'] }, 'a shape used once stays inline')
})

t.test('naming the shared shapes leaves responses without a body and protected operations alone', async t => {
  const operation = { security: [{ bearerAuth: [] }], responses: { 204: { description: 'No body.' }, 200: { content: { 'text/plain': {} } } } }
  const named = nameSharedSchemas({ paths: { '/x/': { get: operation } }, components: { schemas: {} } })
  t.same(named.paths['/x/']!.get, operation)
})

t.test('served at /openapi.json, with Swagger UI at /docs from bundled files', async t => {
  const app = await buildTestApp(t)
  const served = await app.inject({ method: 'GET', url: '/openapi.json' })
  t.equal(served.statusCode, 200)
  t.same(served.json(), JSON.parse(await generateOpenApi()))
  const docs = await app.inject({ method: 'GET', url: '/docs/' })
  t.equal(docs.statusCode, 200)
  t.match(docs.headers['content-type'], /text\/html/)
  t.notMatch(docs.body, /https?:\/\/(?!localhost)[a-z]/i, 'no script or style is fetched from the network')
  const bundle = await app.inject({ method: 'GET', url: '/docs/static/swagger-ui-bundle.js' })
  t.equal(bundle.statusCode, 200)
  const initializer = await app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' })
  t.equal(initializer.statusCode, 200)
  t.match(initializer.body, /validatorUrl/)
})
