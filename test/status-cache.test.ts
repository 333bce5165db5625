import t from 'tap'
import { UserStatusCache } from '../src/users/status-cache.js'

t.test('a bounded LRU of user states', async t => {
  const cache = new UserStatusCache(2, 60_000)
  cache.set(1, { isActive: true })
  cache.set(2, { isActive: false })
  t.same(cache.get(1), { isActive: true }, 'reading 1 makes 2 the least recently used')
  cache.set(3, { isActive: true })
  t.equal(cache.size, 2)
  t.equal(cache.get(2), undefined, '2 was evicted')
  t.same(cache.get(1), { isActive: true })
  cache.set(1, { isActive: false })
  t.same(cache.get(1), { isActive: false }, 'set replaces')
  cache.delete(1)
  t.equal(cache.get(1), undefined)
  t.equal(cache.size, 1)
})

t.test('entries expire after the TTL', async t => {
  let now = 1000
  const cache = new UserStatusCache(10, 500, () => now)
  cache.set(1, { isActive: true })
  now += 499
  t.same(cache.get(1), { isActive: true })
  now += 1
  t.equal(cache.get(1), undefined, 'expired at ttl')
  t.same(cache.stale(1), { isActive: true }, 'kept as the last state known, for a database outage')
  t.equal(cache.stale(2), undefined)
  cache.set(1, { isActive: false })
  t.same(cache.get(1), { isActive: false }, 'replaced when read again')
})
