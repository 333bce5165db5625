import { Writable } from 'node:stream'
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify'
import { pino } from 'pino'
import t from 'tap'
import { lazyChildLoggerFactory, LazyRequestLogger, RequestLogController } from '../src/request-logger.js'
import { buildTestApp, get } from './helpers/app.js'

// request.log makes its pino child only when a line is written at an enabled
// level: the lines written are the same as with a child per request.

function capture (level: string): { logger: FastifyBaseLogger, lines: () => Array<Record<string, unknown>> } {
  let output = ''
  const stream = new Writable({ write (chunk, _encoding, done) { output += chunk; done() } })
  const logger = pino({ level }, stream) as unknown as FastifyBaseLogger
  return { logger, lines: () => output.split('\n').filter(line => line !== '').map(line => JSON.parse(line)) }
}

t.test('no child until a line is written at an enabled level; then the line carries the bindings', async t => {
  const { logger, lines } = capture('warn')
  const log = new LazyRequestLogger(logger, { reqId: 'req-7' })
  log.trace('not written')
  log.debug('not written')
  log.info({ a: 1 }, 'not written')
  log.silent()
  t.equal(log.materialised, false, 'nothing written: no child made')
  t.equal(log.level, 'warn', 'the parent\'s level')
  t.equal(log.isLevelEnabled('info'), false)
  t.equal(log.isLevelEnabled('error'), true)
  log.warn({ a: 2 }, 'written')
  log.error('an error')
  log.fatal('a fatal one')
  t.equal(log.materialised, true)
  t.same(lines().map(line => [line.level, line.reqId, line.msg, line.a]), [
    [40, 'req-7', 'written', 2], [50, 'req-7', 'an error', undefined], [60, 'req-7', 'a fatal one', undefined]
  ])
})

t.test('a level set on the request\'s logger is its own; children carry both bindings', async t => {
  const { logger, lines } = capture('warn')
  const log = new LazyRequestLogger(logger, { reqId: 'req-8' })
  log.level = 'debug'
  t.equal(log.level, 'debug')
  t.equal(logger.level, 'warn', 'the parent keeps its level')
  log.debug('now written')
  log.child({ part: 'inner' }).warn('from a child')
  t.same(lines().map(line => [line.reqId, line.part, line.msg]), [['req-8', undefined, 'now written'], ['req-8', 'inner', 'from a child']])
})

t.test('the factory: lazy by default, a real child when a route asks for a level or serializers', async t => {
  const { logger, lines } = capture('info')
  const lazy = lazyChildLoggerFactory.call(undefined as never, logger, { reqId: 'a' }, {}, undefined as never)
  t.ok(lazy instanceof LazyRequestLogger)
  const real = lazyChildLoggerFactory.call(undefined as never, logger, { reqId: 'b' }, { level: 'error' }, undefined as never)
  t.notOk(real instanceof LazyRequestLogger)
  t.equal(real.level, 'error')
  real.info('not written')
  real.error('written')
  t.same(lines().map(line => [line.reqId, line.msg]), [['b', 'written']])
})

t.test('in the app: request lines keep their reqId', async t => {
  let output = ''
  const stream = new Writable({ write (chunk, _encoding, done) { output += chunk; done() } })
  const app = await buildTestApp(t, { logLevel: 'info' }, { logger: { stream } })
  await get(app, '/protected/')
  const lines = output.split('\n').filter(line => line.includes('"reqId"')).map(line => JSON.parse(line) as Record<string, unknown>)
  t.same(lines.map(line => line.msg), ['incoming request', 'request completed'])
  t.equal(lines[0]!.reqId, lines[1]!.reqId, 'one request, one reqId')
})

t.test('the log controller: no per-request info lines at levels that drop them; errors still written', async t => {
  for (const [level, expected] of [
    ['warn', ['request errored']],
    ['info', ['incoming request', 'request completed', 'request errored']]
  ] as const) {
    const { logger, lines } = capture(level)
    const controller = new RequestLogController(level)
    const request = { log: logger } as unknown as FastifyRequest
    const reply = { log: logger, elapsedTime: 1.5, statusCode: 200 } as unknown as FastifyReply
    controller.incomingRequest(request, reply)
    controller.requestCompleted(null, request, reply)
    controller.requestCompleted(new Error('socket hang up'), request, reply)
    t.same(lines().map(line => line.msg), expected, level)
  }
})

t.test('in the app at warn: a request writes no line', async t => {
  let output = ''
  const stream = new Writable({ write (chunk, _encoding, done) { output += chunk; done() } })
  const app = await buildTestApp(t, { logLevel: 'warn' }, { logger: { stream } })
  t.equal((await get(app, '/protected/')).statusCode, 401)
  t.equal(output, '')
})
