import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { getPriority, tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { lowerHelperThreadPriority } from '../src/auth/hash-threads.js'
import { startServer } from './helpers/server.js'
import { isolatedEnv } from './helpers/spawn.js'

const threadsOf = (pid: number | 'self') => readdirSync(`/proc/${pid}/task`).map(Number)

t.test('0 steps, or another system than Linux: nothing is touched', async t => {
  t.equal(await lowerHelperThreadPriority(0), null)
  t.equal(await lowerHelperThreadPriority(10, 'darwin'), null)
  t.equal(await lowerHelperThreadPriority(10, 'win32'), null)
  t.ok(threadsOf('self').every(tid => getPriority(tid) === getPriority(process.pid)), 'every thread as it was')
})

t.test('every thread but the main one runs `steps` nice levels lower, at most 19', async t => {
  const before = getPriority(process.pid)
  const reniced = await lowerHelperThreadPriority(5)
  t.ok(reniced !== null)
  t.equal(reniced!.nice, before + 5)
  t.same(reniced!.failed, [])
  t.same([...reniced!.threads].sort(), threadsOf('self').filter(tid => tid !== process.pid).sort(),
    'the pool, V8\'s workers and the rest: every thread but the event loop')
  t.ok(reniced!.threads.length >= 4, 'libuv\'s pool has 4 threads at least (UV_THREADPOOL_SIZE)')
  for (const tid of reniced!.threads) t.equal(getPriority(tid), before + 5, `thread ${tid}`)
  t.equal(getPriority(process.pid), before, 'the event loop keeps its priority')

  const capped = await lowerHelperThreadPriority(19)
  t.equal(capped!.nice, 19, 'nice stops at 19')
  for (const tid of capped!.threads) t.equal(getPriority(tid), 19)
  t.equal(getPriority(process.pid), before)
})

t.test('npm start lowers the hash threads (HASH_THREAD_NICE, default 10) and says which at debug', async t => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-threads-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const server = await startServer(isolatedEnv(dataDir, { LOG_LEVEL: 'debug', HASH_THREAD_NICE: undefined }))
  t.teardown(() => { server.child.kill('SIGTERM') })
  const pid = server.child.pid!
  const line = server.logs().find(entry => entry.msg === 'threads that may hash run at a lower priority than the event loop')
  t.ok(line, 'logged at debug')
  t.equal(line?.level, 20)
  t.equal(line?.nice, 10)
  const logged = line?.threads as number[]
  t.ok(logged.length >= 4)
  t.notOk(logged.includes(pid), 'not the main thread')
  for (const tid of logged) t.equal(getPriority(tid), 10, `thread ${tid}`)
  t.equal(getPriority(pid), 0, 'the event loop keeps its priority')

  const off = await startServer(isolatedEnv(join(dataDir, 'second'), { LOG_LEVEL: 'debug', HASH_THREAD_NICE: '0' }))
  t.teardown(() => { off.child.kill('SIGTERM') })
  t.notOk(off.logs().some(entry => String(entry.msg).startsWith('threads that may hash')), 'HASH_THREAD_NICE=0: nothing said')
  t.ok(threadsOf(off.child.pid!).every(tid => getPriority(tid) === 0), 'nor done')
})
