import t from 'tap'
import { ApiError } from '../src/errors.js'
import { HASH_RETRY_AFTER_SECONDS, HashQueue, hashConcurrencyOf } from '../src/auth/hash-queue.js'
import { createPasswordHasher } from '../src/auth/passwords.js'
import { configWith } from '../src/config.js'
import { buildTestApp, obtainPair, PASSWORD, post, registerUser } from './helpers/app.js'

const SERVICE_UNAVAILABLE = '{"detail":"Service temporarily unavailable.","code":"service_unavailable"}'

/** A task the test finishes by hand. */
function gate () {
  let open!: () => void
  const opened = new Promise<void>(resolve => { open = resolve })
  return { open, opened }
}

t.test('HASH_CONCURRENCY 0 is the cores less one, at least one', async t => {
  t.equal(hashConcurrencyOf(0, 2), 1)
  t.equal(hashConcurrencyOf(0, 8), 7)
  t.equal(hashConcurrencyOf(0, 1), 1)
  t.equal(hashConcurrencyOf(3, 2), 3, 'a set value is kept')
})

t.test('at most `concurrency` run, at most `queueLimit` wait, in order; the next is refused at once', async t => {
  const queue = new HashQueue({ concurrency: 2, queueLimit: 1 })
  const started: number[] = []
  let peak = 0
  const gates = [gate(), gate(), gate()]
  const task = (i: number) => queue.run(async () => {
    started.push(i)
    peak = Math.max(peak, queue.running)
    await gates[i]!.opened
    return i
  })
  const runs = [task(0), task(1), task(2)]
  await Promise.resolve()
  t.same(started, [0, 1], 'two run')
  t.equal(queue.waiting, 1, 'one waits')
  await t.rejects(queue.admit(), ApiError, 'admit says no before any work')
  const refused = await queue.run(async () => 'never').catch((error: unknown) => error)
  t.ok(refused instanceof ApiError)
  const apiError = refused as ApiError
  t.equal(apiError.statusCode, 503)
  t.same(apiError.body, { detail: 'Service temporarily unavailable.', code: 'service_unavailable' })
  t.same(apiError.headers, { 'retry-after': String(HASH_RETRY_AFTER_SECONDS) })

  gates[1]!.open()
  t.equal(await runs[1], 1)
  t.same(started, [0, 1, 2], 'the waiting task takes the freed slot')
  t.equal(queue.running, 2)
  gates[0]!.open()
  gates[2]!.open()
  t.same(await Promise.all(runs), [0, 1, 2])
  t.equal(peak, 2, 'never more than two at once')
  await t.resolves(queue.admit(), 'room again')
  t.equal(queue.running, 0)
  t.equal(queue.waiting, 0)
})

t.test('a task given while the running one finishes without waiting on I/O still runs (no lost hand-over)', async t => {
  const queue = new HashQueue({ concurrency: 1, queueLimit: 1 })
  // The first task's work resolves within the same turn (an unusable password's verification does).
  const first = queue.run(async () => 'first')
  const second = queue.run(async () => 'second')
  t.same(await Promise.all([first, second]), ['first', 'second'])
  t.equal(queue.running, 0)
  t.equal(queue.waiting, 0)
})

t.test('a refusal captures no stack (it is an answer), and leaves Error.stackTraceLimit as it was', async t => {
  const limit = Error.stackTraceLimit
  const refusal = await new HashQueue({ concurrency: 0, queueLimit: 0 }).run(async () => 'never').then(() => null, (error: unknown) => error as ApiError)
  t.ok(refusal instanceof Error)
  t.equal(refusal?.stack, 'ApiError: Service temporarily unavailable.', 'no frames')
  t.equal(Error.stackTraceLimit, limit)
  t.match(new Error('a fault').stack, /\n {4}at /, 'other errors keep theirs')
})

t.test('the unqueued hasher (the CLI\'s) admits every hash', async t => {
  await t.resolves(createPasswordHasher({ memoryKib: 1024, iterations: 1, parallelism: 1 }).admit())
})

t.test('a failing task frees its slot', async t => {
  const queue = new HashQueue({ concurrency: 1, queueLimit: 0 })
  await t.rejects(queue.run(async () => { throw new Error('argon2 failed') }), /argon2 failed/)
  t.equal(await queue.run(async () => 'next'), 'next')
})

t.test('a refusal waits refusalDelayMs for its 503, at most maxDelayed of them; then they are sent at once', async t => {
  const queue = new HashQueue({ concurrency: 1, queueLimit: 0, refusalDelayMs: 200, maxDelayed: 2 })
  const held = gate()
  const holding = queue.run(() => held.opened)
  const settled: string[] = []
  const refusal = (name: string) => queue.admit().then(() => settled.push(`${name} admitted`), (error: unknown) => {
    t.ok(error instanceof ApiError && error.statusCode === 503, name)
    settled.push(name)
  })
  const delayed = [refusal('first'), refusal('second')]
  t.equal(queue.delayed, 2)
  await refusal('third')
  t.same(settled, ['third'], 'past maxDelayed: refused at once, while the others wait')
  const started = Date.now()
  await Promise.all(delayed)
  t.ok(Date.now() - started >= 50, 'they waited (between half and one and a half times refusalDelayMs)')
  t.same(settled.slice(1).sort(), ['first', 'second'], 'the delayed ones are refused too, not admitted')
  t.equal(queue.delayed, 0)
  held.open()
  await holding
  await t.resolves(queue.admit(), 'room again: no wait')
})

t.test('HASH_QUEUE_REFUSAL_DELAY (default 1 s): a refused login gets its 503 after the delay, other routes meanwhile at once', async t => {
  t.equal(configWith().hashQueueRefusalDelay, 1000)
  // 1 s: the refusal waits at least 500 ms, far longer than the refresh below takes on a busy machine.
  const app = await buildTestApp(t, { hashConcurrency: 1, hashQueueLimit: 0, hashQueueRefusalDelay: 1000 })
  await registerUser(app)
  const held = gate()
  const holding = app.hashQueue.run(() => held.opened)
  let answered = false
  const login = post(app, '/api/token/', { username: 'alice', password: PASSWORD }).then(response => { answered = true; return response })
  // The refusal waits on a timer, not in the event loop: other requests are answered meanwhile.
  t.equal((await post(app, '/api/token/refresh/', { refresh: 'not-a-token' })).statusCode, 401)
  t.equal(answered, false, 'the refused login is still waiting')
  t.equal(app.hashQueue.delayed, 1)
  const response = await login
  t.equal(response.statusCode, 503)
  t.equal(response.body, SERVICE_UNAVAILABLE)
  t.equal(response.headers['retry-after'], '1')
  held.open()
  await holding
})

t.test('a full queue answers 503 with Retry-After on every route that hashes', async t => {
  // At once here; the delay of a refusal is the next test's.
  const app = await buildTestApp(t, { hashConcurrency: 1, hashQueueLimit: 0, hashQueueRefusalDelay: 0 })
  await registerUser(app)
  const { access } = await obtainPair(app)

  // The one slot taken by a hash that the test holds: any other hash is refused.
  const held = gate()
  const holding = app.hashQueue.run(() => held.opened)
  const requests = {
    login: () => post(app, '/api/token/', { username: 'alice', password: PASSWORD }),
    'login alias': () => post(app, '/login/', { username: 'alice', password: PASSWORD }),
    'unknown user': () => post(app, '/api/token/', { username: 'nobody', password: PASSWORD }),
    register: () => post(app, '/register/', { username: 'bob', password: PASSWORD }),
    'password change': () => post(app, '/api/users/me/password/', { old_password: PASSWORD, new_password: 'violet-Otter-lantern-42' }, { authorization: `Bearer ${access}` })
  }
  for (const [name, request] of Object.entries(requests)) {
    const response = await request()
    t.equal(response.statusCode, 503, name)
    t.equal(response.body, SERVICE_UNAVAILABLE, name)
    t.equal(response.headers['retry-after'], '1', name)
    t.match(response.headers['content-type'], /^application\/json/, name)
  }
  t.equal((await post(app, '/api/token/refresh/', { refresh: 'not-a-token' })).statusCode, 401, 'routes that do not hash are not queued')

  held.open()
  await holding
  t.equal((await post(app, '/api/token/', { username: 'alice', password: PASSWORD })).statusCode, 200, 'served again once the slot is free')
  t.equal((await post(app, '/register/', { username: 'bob', password: PASSWORD })).statusCode, 201, 'nothing was done by the refused registration')
})
