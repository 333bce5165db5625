import t from 'tap'
import { buildApp } from '../src/app.js'
import { SECURITY_HEADERS } from '../plugins/security-headers.js'
import { swaggerUiPolicy } from '../plugins/swagger.js'
import { buildTestApp, get, post, testConfig } from './helpers/app.js'

// helmet's headers on every response; CORS for the origins of CORS_ORIGINS only.

t.test('security headers on successes, errors and unknown paths', async t => {
  const app = await buildTestApp(t)
  t.equal(SECURITY_HEADERS['content-security-policy'], "default-src 'none';frame-ancestors 'none'")
  for (const response of [
    await get(app, '/health/live/'),
    await get(app, '/protected/'),
    await post(app, '/api/token/', '{', { 'content-type': 'application/json' }),
    await get(app, '/nowhere/')
  ]) {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) t.equal(response.headers[name], value, `${response.statusCode}: ${name}`)
    t.equal(response.headers['x-content-type-options'], 'nosniff')
    t.equal(response.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains')
  }
})

// test/swagger-ui.test.ts drives Chromium through the page under this policy.
t.test('Swagger UI gets a policy of its own, with nothing from other hosts', async t => {
  const app = await buildTestApp(t)
  const page = await app.inject({ method: 'GET', url: '/docs/' })
  t.equal(page.statusCode, 200)
  const policy = String(page.headers['content-security-policy'])
  t.match(policy, /default-src 'self';[^]* script-src 'self'/)
  t.notMatch(policy, /https:|validator\.swagger\.io|upgrade-insecure-requests/)
  t.equal(swaggerUiPolicy("default-src 'self'; img-src 'self' data: validator.swagger.io; style-src 'self' https: 'sha256-x'; upgrade-insecure-requests;"),
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'sha256-x'")
})

t.test('SWAGGER_UI=false closes /docs; the document stays', async t => {
  const app = await buildTestApp(t, { swaggerUi: false })
  t.equal((await app.inject({ method: 'GET', url: '/docs/' })).statusCode, 404)
  t.equal((await app.inject({ method: 'GET', url: '/openapi.json' })).statusCode, 200)
})

t.test('CORS: nothing allowed by default', async t => {
  const app = await buildTestApp(t)
  const response = await get(app, '/health/live/')
  t.equal(response.headers['access-control-allow-origin'], undefined)
  const fromPage = await app.inject({ method: 'GET', url: '/health/live/', headers: { origin: 'https://evil.example' } })
  t.equal(fromPage.headers['access-control-allow-origin'], undefined)
})

t.test('CORS: the allow-list of CORS_ORIGINS', async t => {
  // Built without the contract check: a preflight (OPTIONS) is the browser's, not an operation of the API.
  const app = await buildApp(await testConfig(t, { corsOrigins: 'https://app.example.com/, http://localhost:3000' }))
  t.teardown(() => app.close())
  const preflight = await app.inject({
    method: 'OPTIONS',
    url: '/api/token/',
    headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' }
  })
  t.equal(preflight.statusCode, 204)
  t.equal(preflight.headers['access-control-allow-origin'], 'https://app.example.com')
  t.match(String(preflight.headers['access-control-allow-methods']), /POST/)
  t.match(String(preflight.headers['access-control-allow-headers']), /Authorization/)
  t.equal(preflight.headers['access-control-max-age'], '600')
  t.equal(preflight.headers['access-control-allow-credentials'], undefined, 'no credentials: tokens travel in a header')
  const call = await app.inject({ method: 'POST', url: '/api/token/', headers: { origin: 'http://localhost:3000' }, payload: {} })
  t.equal(call.statusCode, 400)
  t.equal(call.headers['access-control-allow-origin'], 'http://localhost:3000')
  for (const origin of ['https://evil.example', 'https://app.example.com.evil.example', 'null']) {
    const refused = await app.inject({ method: 'OPTIONS', url: '/api/token/', headers: { origin, 'access-control-request-method': 'POST' } })
    t.equal(refused.headers['access-control-allow-origin'], undefined, `${origin} is not allowed`)
  }
})
