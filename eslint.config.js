import neostandard from 'neostandard'

// neostandard: the style of Fastify's own code (standard, for TypeScript too).
export default neostandard({
  ts: true,
  ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.tap/**', 'data/**', 'screenshots/**', 'openapi/sdk/schema.d.ts']
})
