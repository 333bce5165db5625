import Fastify from 'fastify'

// The baseline: a bare Fastify 5 route returning the body of GET /protected/,
// with a response schema (fast-json-stringify) as Tessera's routes have, no logger.
const app = Fastify({ logger: false })
app.get('/protected/', {
  schema: { response: { 200: { type: 'object', properties: { content: { type: 'string' } } } } }
}, async () => ({ content: 'This view is protected' }))
await app.listen({ port: Number(process.argv[2]), host: '127.0.0.1' })
process.on('SIGTERM', () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
