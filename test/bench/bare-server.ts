import Fastify from 'fastify'
import { SECURITY_HEADERS } from '../../plugins/security-headers.js'
import { REDACTED } from '../../src/app.js'
import { lazyChildLoggerFactory, RequestLogController } from '../../src/request-logger.js'

// The baseline: a bare Fastify 5 route returning the body of GET /protected/,
// with a response schema (fast-json-stringify) as Tessera's routes have, no
// logger. With `logger`, Tessera's logger set up as src/app.ts sets it up
// (pino at warn, its redaction paths, the lazy request logger and the log
// controller); with `headers` also, the security headers every Tessera
// response carries (plugins/security-headers.ts), set the same way. Those two
// show what the parts of Tessera that are not authentication cost alone.
const parts = new Set(process.argv.slice(3))
const app = Fastify(parts.has('logger')
  ? { logger: { level: 'warn', redact: REDACTED }, childLoggerFactory: lazyChildLoggerFactory, logController: new RequestLogController('warn') }
  : { logger: false })
if (parts.has('headers')) app.addHook('onRequest', (_request, reply, done) => { reply.headers(SECURITY_HEADERS); done() })
app.get('/protected/', {
  schema: { response: { 200: { type: 'object', properties: { content: { type: 'string' } } } } }
}, async () => ({ content: 'This view is protected' }))
await app.listen({ port: Number(process.argv[2]), host: '127.0.0.1' })
process.on('SIGTERM', () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
