import { eq } from 'drizzle-orm'
import t from 'tap'
import { users } from '../src/db/schema.js'
import { deleteUser, setUserActive } from '../src/users/accounts.js'
import { buildTestApp, get, obtainPair, registerUser } from './helpers/app.js'

t.test('protected routes read users\' states from memory; local changes invalidate at once', async t => {
  const app = await buildTestApp(t)
  const id = await registerUser(app)
  const { access } = await obtainPair(app)
  t.equal((await get(app, '/protected/', access)).statusCode, 200, 'first request loads the state')

  // A change made behind the app's back (straight SQL) is not seen: the
  // answer comes from memory, which proves no query was made.
  await app.database.db.update(users).set({ isActive: false }).where(eq(users.id, id))
  t.equal((await get(app, '/protected/', access)).statusCode, 200, 'served from the cache, no query')

  // A change through the app's own functions invalidates the entry.
  await setUserActive(app.accounts, id, false)
  const inactive = await get(app, '/protected/', access)
  t.equal(inactive.statusCode, 401)
  t.equal(inactive.body, '{"detail":"User is inactive","code":"user_inactive"}')

  // The deactivation ended the user's sessions: reactivated, they log in again.
  await setUserActive(app.accounts, id, true)
  const ended = await get(app, '/protected/', access)
  t.equal(ended.statusCode, 401)
  t.match(ended.body, /"message":"Token is blacklisted"/)
  t.equal((await get(app, '/protected/', (await obtainPair(app)).access)).statusCode, 200)

  await deleteUser(app.accounts, id)
  const gone = await get(app, '/protected/', access)
  t.equal(gone.statusCode, 401)
  t.equal(gone.body, '{"detail":"User not found","code":"user_not_found"}')
  const [row] = await app.database.db.select().from(users).where(eq(users.id, id))
  t.equal(row, undefined)
})

t.test('a change made elsewhere is seen once the entry expires (USER_CACHE_TTL)', async t => {
  const app = await buildTestApp(t, { userCacheTtl: 1 })
  const id = await registerUser(app)
  const { access } = await obtainPair(app)
  t.equal((await get(app, '/protected/', access)).statusCode, 200)
  await app.database.db.update(users).set({ isActive: false }).where(eq(users.id, id))
  const deadline = Date.now() + 5000
  let status = 200
  while (status === 200 && Date.now() < deadline) {
    await new Promise(resolve => setTimeout(resolve, 100))
    status = (await get(app, '/protected/', access)).statusCode
  }
  t.equal(status, 401, 'refused within the TTL')
})

t.test('the cache is bounded by USER_CACHE_SIZE', async t => {
  const app = await buildTestApp(t, { userCacheSize: 1 })
  await registerUser(app, 'alice')
  await registerUser(app, 'bob')
  const alice = await obtainPair(app, 'alice')
  const bob = await obtainPair(app, 'bob')
  t.equal((await get(app, '/protected/', alice.access)).statusCode, 200)
  t.equal((await get(app, '/protected/', bob.access)).statusCode, 200)
  t.equal(app.accounts.cache.size, 1)
})
