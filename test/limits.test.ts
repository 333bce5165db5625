import { connect } from 'node:net'
import t from 'tap'
import { MAX_JSON_DEPTH, nestedDeeperThan } from '../plugins/content.js'
import { buildTestApp, post } from './helpers/app.js'

// Every input has a limit, and each limit is answered with a clear 4xx JSON body.

const app = await buildTestApp(t)

t.test('JSON nested deeper than the limit: 400 before it is parsed', async t => {
  const deep = (depth: number) => `{"username": ${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}, "password": "x"}`
  const refused = await post(app, '/api/token/', deep(MAX_JSON_DEPTH + 1), { 'content-type': 'application/json' })
  t.equal(refused.statusCode, 400)
  t.equal(refused.body, `{"detail":"JSON parse error - nested deeper than ${MAX_JSON_DEPTH} levels"}`)
  const fine = await post(app, '/api/token/', deep(MAX_JSON_DEPTH), { 'content-type': 'application/json' })
  t.equal(fine.statusCode, 400, 'at the limit it is parsed, and the field is refused as the wrong type')
  t.match(fine.json(), { username: [String] })
  // Brackets inside strings, and escaped quotes, are not nesting.
  t.notOk(nestedDeeperThan(`{"a": "${'['.repeat(100)}\\"${'{'.repeat(100)}"}`, 2))
  t.ok(nestedDeeperThan('[[[', 2))
  const flood = await post(app, '/api/token/', '['.repeat(15_000), { 'content-type': 'application/json' })
  t.equal(flood.statusCode, 400, 'a body that is all brackets')
})

t.test('a body over 16 KiB: 413, as JSON', async t => {
  const response = await post(app, '/api/token/', { username: 'x', password: 'y'.repeat(17_000) })
  t.equal(response.statusCode, 413)
  t.equal(response.body, '{"detail":"Request body is too large."}')
  t.equal(response.headers['content-type'], 'application/json')
})

/** Writes raw bytes to a listening app and reads everything it answers until it closes. */
async function rawExchange (port: number, request: string): Promise<string> {
  const socket = connect(port, '127.0.0.1')
  let answer = ''
  socket.on('data', chunk => { answer += chunk })
  socket.write(request)
  await new Promise(resolve => socket.on('close', resolve))
  return answer
}

t.test('over HTTP: headers over 16 KiB get 431, a malformed request 400, both JSON', async t => {
  const served = await buildTestApp(t)
  await served.listen({ port: 0, host: '127.0.0.1' })
  const { port } = served.server.address() as { port: number }
  const tooLarge = await rawExchange(port, `GET /protected/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${'a'.repeat(20_000)}\r\n\r\n`)
  t.match(tooLarge, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/)
  t.match(tooLarge, /\r\nContent-Type: application\/json\r\n/)
  t.match(tooLarge, /\r\n\r\n\{"detail":"Request header fields are too large\."\}$/)
  const malformed = await rawExchange(port, 'GARBAGE\r\n\r\n')
  t.match(malformed, /^HTTP\/1\.1 400 Bad Request\r\n[^]*\r\n\r\n\{"detail":"Malformed request\."\}$/)
  // A token in a header is limited to 4,096 characters, well under the header limit.
  const longToken = await fetch(`http://127.0.0.1:${port}/protected/`, { headers: { authorization: `Bearer ${'a'.repeat(8000)}` } })
  t.equal(longToken.status, 401)
})
