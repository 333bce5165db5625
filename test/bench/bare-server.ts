import Fastify from 'fastify'
import { REDACTED } from '../../src/app.js'

// The baseline: a bare Fastify 5 route returning the body of GET /protected/,
// with a response schema (fast-json-stringify) as Tessera's routes have, no
// logger; with `logger`, Tessera's (pino at warn, with its redaction paths),
// to show what the logger alone costs.
const app = Fastify({ logger: process.argv[3] === 'logger' ? { level: 'warn', redact: REDACTED } : false })
app.get('/protected/', {
  schema: { response: { 200: { type: 'object', properties: { content: { type: 'string' } } } } }
}, async () => ({ content: 'This view is protected' }))
await app.listen({ port: Number(process.argv[2]), host: '127.0.0.1' })
process.on('SIGTERM', () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
