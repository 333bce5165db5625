import { readdirSync } from 'node:fs'
import { access } from 'node:fs/promises'
import { getPriority, setPriority } from 'node:os'

// argon2 hashes on libuv's thread pool. Where the pool's threads and the event
// loop share a core (one core, or more busy threads than cores), the kernel
// splits it evenly between them: during a login flood a hash took half the CPU
// the event loop needed for every other route. Linux keeps a nice value per
// thread, and lowering a thread's priority needs no privilege, so the threads
// that may hash get a lower priority than the event loop: when both want the
// core the event loop gets it (about 90% at 10 steps lower), and a hash still
// runs at full speed whenever the event loop is idle.
//
// Which threads: Node 20 does not name its threads, and an ES module's first
// line runs after libuv's pool exists (the loader reads files through it), so
// the pool cannot be told apart by its name or by being created later. We take
// every thread but the main one (tid = pid, the event loop), after one fs call,
// which starts the pool if nothing had (libuv starts all its threads on the
// first job, and none later). Besides the pool (UV_THREADPOOL_SIZE, 4 by
// default: hashes, and also file, DNS and crypto jobs) that is V8's platform
// workers (concurrent compilation, GC marking and sweeping, the helpers of a
// parallel scavenge), a thread that waits for delayed V8 tasks and one that
// waits for SIGUSR1. Lowering V8's workers costs the event loop nothing: V8
// does not wait on a background task for long (the main thread takes a
// parallel scavenge's remaining work itself), and they run at full speed when
// the core is free. Telling pool threads apart by the CPU they used during a
// hash would not find them all (libuv hands successive jobs to different
// threads) and would cost start-up time. Threads created later (worker_threads,
// argon2's own threads for parallelism > 1 are created by a pool thread and
// inherit its priority) are not touched here.

/** Where this process's threads are listed (Linux). */
const TASKS = '/proc/self/task'

export interface RenicedThreads {
  /** The nice value given to the threads. */
  nice: number
  /** Thread ids whose priority was lowered. */
  threads: number[]
  /** Thread ids that could not be changed, with why (a thread that ended meanwhile, a refusal). */
  failed: Array<{ tid: number, code: string }>
}

/**
 * Lowers the CPU priority of every thread of this process but the main one by `steps` nice
 * levels (HASH_THREAD_NICE; at most to 19). Linux only; elsewhere, and with 0 steps, it does nothing.
 */
export async function lowerHelperThreadPriority (steps: number, platform: NodeJS.Platform = process.platform): Promise<RenicedThreads | null> {
  if (steps === 0 || platform !== 'linux') return null
  // An fs job: libuv's pool exists once it has run.
  await access(TASKS)
  const main = process.pid
  const nice = Math.min(19, getPriority(main) + steps)
  const result: RenicedThreads = { nice, threads: [], failed: [] }
  for (const tid of readdirSync(TASKS).map(Number)) {
    if (tid === main) continue
    try {
      setPriority(tid, nice)
      result.threads.push(tid)
    /* c8 ignore start: a thread that ended between the listing and here (ESRCH), or a refusal (EACCES) that a
       lowering never meets on Linux; neither can be made to happen from a test */
    } catch (error) {
      result.failed.push({ tid, code: String((error as NodeJS.ErrnoException).code) })
    }
    /* c8 ignore stop */
  }
  return result
}
