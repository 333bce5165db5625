import { eq } from 'drizzle-orm'
import t from 'tap'
import { refreshTokens, securityEvents, sessions } from '../src/db/schema.js'
import { PeriodicPrune, pruneExpired, type Pruned } from '../src/sessions/prune.js'
import { buildTestApp, obtainPair, registerUser } from './helpers/app.js'
import { decodePayload } from './helpers/jwt.js'
import { until } from './helpers/wait.js'

// What flushexpiredtokens and SESSION_PRUNE_INTERVAL delete (pruneExpired, on
// the real database), and the schedule of the server's pruning (PeriodicPrune).

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))
const NOTHING: Pruned = { tokens: 0, sessions: 0, events: 0 }

/** A PruneLog that keeps what it is given. */
function recordingLog () {
  const lines: Array<{ level: 'debug' | 'error', details: object, message: string }> = []
  return {
    lines,
    debug: (details: object, message: string) => { lines.push({ level: 'debug', details, message }) },
    error: (details: object, message: string) => { lines.push({ level: 'error', details, message }) }
  }
}

t.test('pruneExpired: expired tokens, then the sessions they kept, then old events; nothing once aborted', async t => {
  const app = await buildTestApp(t)
  await registerUser(app)
  const { db } = app.database
  const ended = await obtainPair(app)
  const live = await obtainPair(app)
  const sid = decodePayload(ended.access).sid as string
  const past = new Date(Date.now() - 60_000)
  // Logged out a while ago, and its refresh token has expired since.
  await db.update(sessions).set({ endedAt: past }).where(eq(sessions.id, sid))
  await db.update(refreshTokens).set({ expiresAt: past }).where(eq(refreshTokens.sessionId, sid))
  await db.insert(securityEvents).values([{ at: new Date(Date.now() - 7200e3), type: 'logout' }])
  const eventsBefore = (await db.select().from(securityEvents)).length
  const now = new Date()
  const retainedSince = new Date(now.getTime() - 3600e3)

  const aborted = new AbortController()
  aborted.abort()
  t.same(await pruneExpired(db, now, retainedSince, aborted.signal), NOTHING, 'aborted: no batch starts')
  t.equal((await db.select().from(sessions)).length, 2)

  t.same(await pruneExpired(db, now, retainedSince), { tokens: 1, sessions: 1, events: 1 })
  const left = await db.select({ id: sessions.id }).from(sessions)
  t.same(left, [{ id: decodePayload(live.access).sid }], 'the live session stays')
  t.equal((await db.select().from(refreshTokens)).length, 1, 'and its token')
  t.equal((await db.select().from(securityEvents)).length, eventsBefore - 1, 'the events within the retention stay')
  t.same(await pruneExpired(db, now, retainedSince), NOTHING, 'nothing left to delete')
})

t.test('PeriodicPrune: a run an interval after the last one finished, never two at once, failures logged', async t => {
  const log = recordingLog()
  const started: number[] = []
  let finish: (() => void) | undefined
  let fail = false
  const pruning = new PeriodicPrune(async () => {
    started.push(Date.now())
    await new Promise<void>(resolve => { finish = resolve })
    if (fail) throw new Error('database unreachable')
    return { tokens: 1, sessions: 2, events: 3 }
  }, 5, log)
  t.teardown(async () => {
    // The third run is still in progress: close waits for it.
    const closing = pruning.close()
    finish!()
    await closing
  })
  t.equal(pruning.running, false)
  pruning.start()
  await until(() => started.length === 1, 'the first run', { everyMs: 2 })
  t.equal(pruning.running, true)
  // Far longer than the interval: no second run while the first has not finished.
  await sleep(50)
  t.equal(started.length, 1, 'no run starts while one is in progress')
  finish!()
  await until(() => started.length === 2, 'the second run', { everyMs: 2 })
  t.same(log.lines, [{ level: 'debug', details: { tokens: 1, sessions: 2, events: 3 }, message: 'pruned dead sessions, expired tokens and old security events' }])
  fail = true
  finish!()
  await until(() => started.length === 3, 'a run after the failed one', { everyMs: 2 })
  t.equal(log.lines.length, 2)
  t.match(log.lines[1], { level: 'error', details: { err: { message: 'database unreachable' } }, message: 'pruning failed' })
})

t.test('PeriodicPrune.close: aborts the run in progress, waits for it, and no run follows', async t => {
  const log = recordingLog()
  let signal: AbortSignal | undefined
  let finish: (() => void) | undefined
  let runs = 0
  const pruning = new PeriodicPrune(async given => {
    runs++
    signal = given
    await new Promise<void>(resolve => { finish = resolve })
    return NOTHING
  }, 1, log)
  pruning.start()
  await until(() => runs === 1, 'the first run', { everyMs: 2 })
  t.equal(signal!.aborted, false)
  let closed = false
  const closing = pruning.close().then(() => { closed = true })
  t.equal(signal!.aborted, true, 'the run is told to stop')
  await sleep(20)
  t.equal(closed, false, 'close waits for the run in progress')
  finish!()
  await closing
  t.equal(pruning.running, false)
  await sleep(20)
  t.equal(runs, 1, 'no run after close')
  t.same(log.lines.map(line => line.level), ['debug'], 'the run ended as usual: nothing logged as failed')

  const never = new PeriodicPrune(async () => { runs++; return NOTHING }, 1, log)
  await never.close()
  never.start()
  await sleep(20)
  t.equal(runs, 1, 'closed before it started: it never runs')
})
