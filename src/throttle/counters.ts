// Fixed-window counters: the first hit on a key opens a window of `windowMs`;
// every hit in it counts, and the window closes on its own. One counter store
// per process (memory) or shared by every instance (Redis).

export interface Hit {
  /** Hits on the key in the current window, this one included. */
  count: number
  /** Milliseconds until the window closes. */
  resetMs: number
}

export interface CounterStore {
  /** Resolves once the store can count (or has tried long enough: hits then fail until it can). */
  ready: () => Promise<void>
  hit: (key: string, windowMs: number) => Promise<Hit>
  close: () => Promise<void>
}

interface Window { count: number, endsAt: number }

/**
 * Counters in this process's memory. Bounded by the keys hit within one
 * window: closed windows are swept every `sweepMs`, and at once when there
 * are more than `sweepAbove` keys.
 */
export function memoryCounterStore (now: () => number = Date.now, sweepMs = 60_000, sweepAbove = 100_000): CounterStore & { size: () => number } {
  const windows = new Map<string, Window>()
  const sweep = (): void => {
    const time = now()
    for (const [key, window] of windows) if (window.endsAt <= time) windows.delete(key)
  }
  const timer = setInterval(sweep, sweepMs).unref()
  return {
    async ready () {},
    async hit (key, windowMs) {
      const time = now()
      let window = windows.get(key)
      if (window === undefined || window.endsAt <= time) {
        if (windows.size >= sweepAbove) sweep()
        window = { count: 0, endsAt: time + windowMs }
        windows.set(key, window)
      }
      window.count++
      return { count: window.count, resetMs: window.endsAt - time }
    },
    async close () {
      clearInterval(timer)
      windows.clear()
    },
    size: () => windows.size
  }
}

// INCR, and the window's expiry on its first hit, in one atomic step; a key
// left without an expiry (it cannot happen, but would count forever) gets one.
const HIT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return { count, ttl }`

/**
 * Counters in Redis (REDIS_URL), shared by every instance. Commands are not
 * queued while Redis is unreachable: they fail at once, and the caller decides
 * (plugins/throttle.ts lets the request through and logs it).
 */
export async function redisCounterStore (url: string, prefix: string, timeoutMs = 1000): Promise<CounterStore> {
  // Imported only with REDIS_URL: ioredis costs about 140 ms of start-up and 20 MB of memory.
  const { Redis } = await import('ioredis')
  const client = new Redis(url, {
    keyPrefix: prefix,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    // Reconnect with back-off, for ever: counting resumes when Redis is back.
    retryStrategy: times => Math.min(times * 200, 5000)
  })
  // Connection errors are retried by the client; each failed command is reported to the caller.
  client.on('error', () => {})
  return {
    async ready () {
      if (client.status === 'ready') return
      await new Promise<void>(resolve => {
        const done = (): void => { clearTimeout(timer); client.off('ready', done); resolve() }
        const timer = setTimeout(done, timeoutMs)
        client.once('ready', done)
      })
    },
    async hit (key, windowMs) {
      const [count, ttl] = await client.eval(HIT_SCRIPT, 1, key, windowMs) as [number, number]
      return { count, resetMs: ttl }
    },
    async close () {
      client.disconnect()
    }
  }
}
