import t from 'tap'
import { buildTestApp, obtainPair, post, registerUser, TEST_DATABASE_URL } from './helpers/app.js'

const PARALLEL = 50
const lane = TEST_DATABASE_URL === undefined ? 'PGlite' : 'PostgreSQL'

t.test(`${PARALLEL} concurrent refreshes of one token: exactly one wins (${lane})`, async t => {
  const app = await buildTestApp(t)
  await registerUser(app)
  const { refresh } = await obtainPair(app)

  const responses = await Promise.all(
    Array.from({ length: PARALLEL }, () => post(app, '/api/token/refresh/', { refresh })))

  const winners = responses.filter(r => r.statusCode === 200)
  const losers = responses.filter(r => r.statusCode !== 200)
  t.equal(winners.length, 1, 'exactly one 200')
  t.equal(losers.length, PARALLEL - 1)
  for (const loser of losers) {
    t.equal(loser.statusCode, 401)
    t.equal(loser.body, '{"detail":"Token is blacklisted","code":"token_not_valid"}')
  }

  // The winner's refresh token is the one live successor, and it works once.
  const next = winners[0]!.json().refresh
  t.equal((await post(app, '/api/token/refresh/', { refresh: next })).statusCode, 200)
  t.equal((await post(app, '/api/token/refresh/', { refresh: next })).statusCode, 401)
})

t.test('concurrent refreshes of a token Tessera never recorded: still exactly one wins', async t => {
  // A token minted elsewhere with the same key (simplejwt) has no row yet:
  // the concurrent inserts of its row race, and only one may win.
  const app = await buildTestApp(t)
  const userId = await registerUser(app)
  const now = Math.floor(Date.now() / 1000)
  const refresh = app.jwt.sign({ token_type: 'refresh', exp: now + 3600, iat: now, jti: 'f'.repeat(32), user_id: userId })
  const responses = await Promise.all(
    Array.from({ length: 20 }, () => post(app, '/api/token/refresh/', { refresh })))
  t.equal(responses.filter(r => r.statusCode === 200).length, 1)
  t.equal(responses.filter(r => r.statusCode === 401).length, 19)
})

t.test(`${PARALLEL} concurrent replays after REFRESH_TOKEN_REUSE_INTERVAL: the session ends (${lane})`, async t => {
  const app = await buildTestApp(t, { refreshTokenReuseInterval: 1 })
  await registerUser(app)
  const { refresh } = await obtainPair(app)
  const responses = await Promise.all(
    Array.from({ length: PARALLEL }, () => post(app, '/api/token/refresh/', { refresh })))
  const winner = responses.find(r => r.statusCode === 200)!.json()
  t.equal(responses.filter(r => r.statusCode === 200).length, 1)
  const access = (token: string) => app.inject({ method: 'GET', url: '/protected/', headers: { authorization: `Bearer ${token}` } })
  t.equal((await access(winner.access)).statusCode, 200, 'inside the interval the session lives')

  await new Promise(resolve => setTimeout(resolve, 2100))
  const replays = await Promise.all(
    Array.from({ length: PARALLEL }, () => post(app, '/api/token/refresh/', { refresh })))
  for (const replay of replays) t.equal(replay.body, '{"detail":"Token is blacklisted","code":"token_not_valid"}')
  t.match((await access(winner.access)).body, /"message":"Token is blacklisted"/, 'the session has ended')
  t.equal((await post(app, '/api/token/refresh/', { refresh: winner.refresh })).statusCode, 401)
})
