import t from 'tap'
import { buildTestApp, get } from './helpers/app.js'

// Load shedding: after the event loop has stalled past MAX_EVENT_LOOP_DELAY,
// requests get a 503 at once until it runs freely again; liveness still answers.

function stallEventLoop (ms: number): void {
  const until = Date.now() + ms
  while (Date.now() < until) { /* a stalled loop, as a CPU-bound flood makes one */ }
}

const pause = async (ms: number) => await new Promise(resolve => setTimeout(resolve, ms))

t.test('a stalled event loop sheds load with 503, and recovers', async t => {
  const app = await buildTestApp(t, { maxEventLoopDelay: 100 })
  t.equal((await get(app, '/protected/')).statusCode, 401, 'served normally first')

  let shed: Awaited<ReturnType<typeof get>> | undefined
  let live: Awaited<ReturnType<typeof get>> | undefined
  for (let attempt = 0; attempt < 20 && (shed === undefined || live === undefined); attempt++) {
    stallEventLoop(800)
    // Up to a second for the next sample: on a machine busy with other suites, timers run late.
    for (let i = 0; i < 100 && !app.isOverloaded(); i++) await pause(10)
    if (!app.isOverloaded()) continue
    const response = await get(app, '/protected/')
    const liveness = await get(app, '/health/live/')
    // Both answered within one sample of the loop's delay.
    if (app.isOverloaded() && response.statusCode === 503) [shed, live] = [response, liveness]
  }
  t.equal(shed?.body, '{"detail":"Service temporarily unavailable.","code":"service_unavailable"}', 'shed before any work (not even the token check)')
  t.equal(shed?.headers['retry-after'], '1')
  t.equal(live?.statusCode, 200, 'liveness answers while shedding')

  for (let i = 0; i < 200 && app.isOverloaded(); i++) await pause(20)
  t.equal((await get(app, '/protected/')).statusCode, 401, 'served again once the loop runs freely')
})

t.test('MAX_EVENT_LOOP_DELAY=0 turns shedding off', async t => {
  const app = await buildTestApp(t, { maxEventLoopDelay: 0 })
  t.equal(app.hasDecorator('isOverloaded'), false)
})
