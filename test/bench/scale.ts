import { execFileSync, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { sql, TransactionRollbackError } from 'drizzle-orm'
import postgres from 'postgres'
import argon2 from 'argon2'
import { configWith } from '../../src/config.js'
import { createDb, type Db } from '../../src/db/index.js'
import { projectRoot } from '../../src/paths.js'
import type { LoadResult, LoadSpec } from './load.js'
import { freePort, hasWrk, machineSample, machineUse, type MachineUse, placement, resultOf, startNode, stop, waitUntilAnswering } from './processes.js'
import { preparedStatement } from '../../src/db/prepared.js'
import { USUAL_ROTATION } from '../../src/tokens/refresh-token-store.js'
import { accessTokens, BENCH_PASSWORD, BENCH_SIGNING_KEY, refreshTokens, rowsOf, seedUsers } from './seed.js'

// npm run bench:scale: login, refresh and protected on an empty database,
// then again after seeding --users users and --tokens refresh-token rows (half
// expired) with set-based SQL; then flushexpiredtokens during a refresh load.
// The query plans of the hot paths are written beside the results. PostgreSQL
// only; the database is dropped at the end. README.md "Performance".

const { values: flags } = parseArgs({
  options: {
    users: { type: 'string', default: '1000000' },
    tokens: { type: 'string', default: '10000000' },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    'database-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' }
  }
})
const seconds = Number(flags.seconds)
const connections = Number(flags.connections)
const userCount = Number(flags.users)
const tokenCount = Number(flags.tokens)
const where = placement(true)
const tool = hasWrk() ? 'wrk' : 'autocannon'
const ARGON2 = { memoryKib: 19456, iterations: 2, parallelism: 1 }
const resultsDir = join(projectRoot, 'test/bench/results')
const scratch = mkdtempSync(join(tmpdir(), 'tessera-scale-'))
const log = (line: string) => process.stderr.write(`${line}\n`)
const elapsed = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`

let loads = 0
/** A load's figures, and what the machine did meanwhile (PostgreSQL's CPU, each core's busy and I/O-wait time). */
type MeasuredLoad = LoadResult & { machine: MachineUse }

async function load (spec: Omit<LoadSpec, 'seconds' | 'tool'>): Promise<MeasuredLoad> {
  const file = join(scratch, `load-${loads++}.json`)
  writeFileSync(file, JSON.stringify({ seconds, tool, ...spec }))
  const before = machineSample()
  const result = await resultOf<LoadResult>(startNode(where.load, join(projectRoot, 'dist/test/bench/load.js'), [file]))
  return { ...result, machine: machineUse(before, machineSample()) }
}

/** "postgres 12% of a core; cpu0 98% busy, 0% iowait, 0% stolen; cpu1 ..." */
const machineLine = ({ postgresCpuPercent, cpus }: MachineUse) =>
  `postgres ${postgresCpuPercent}% of a core; ${cpus.map(({ busy, iowait, steal }, cpu) => `cpu${cpu} ${busy}% busy, ${iowait}% iowait, ${steal}% stolen`).join('; ')}`

const adminUrl = flags['database-url']
const databaseName = `tessera_scale_${process.pid}`
const admin = postgres(adminUrl, { max: 1, onnotice: () => {} })
await admin.unsafe(`create database ${databaseName}`)
await admin.end()
const url = new URL(adminUrl)
url.pathname = `/${databaseName}`
const databaseUrl = url.toString()
const env = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  HOST: '127.0.0.1',
  LOG_LEVEL: 'warn',
  JWT_SIGNING_KEY: BENCH_SIGNING_KEY,
  // Every load comes from one address and a few usernames: throttling (on by default) would answer
  // nearly all of it 429. The bench measures the work behind the throttle; load shedding stays on.
  THROTTLE_ADDRESS_LIMIT: '0',
  THROTTLE_USERNAME_LIMIT: '0',
  DATABASE_URL: databaseUrl,
  MALLOC_ARENA_MAX: '2'
}

/** PostgreSQL's counters for one table: row updates (of them HOT), and its heap's and indexes' blocks found in shared buffers or read. */
interface TableCounters { updates: number, hotUpdates: number, heapHit: number, heapRead: number, indexHit: number, indexRead: number }
type Counters = Record<'refresh_tokens' | 'sessions' | 'users', TableCounters>

async function tableCounters (db: Db): Promise<Counters> {
  const rows = rowsOf(await db.execute(sql`select s.relname, s.n_tup_upd::float8 as updates, s.n_tup_hot_upd::float8 as hot_updates,
      coalesce(io.heap_blks_hit, 0)::float8 as heap_hit, coalesce(io.heap_blks_read, 0)::float8 as heap_read,
      coalesce(io.idx_blks_hit, 0)::float8 as index_hit, coalesce(io.idx_blks_read, 0)::float8 as index_read
    from pg_stat_user_tables s join pg_statio_user_tables io using (relid)
    where s.relname in ('refresh_tokens', 'sessions', 'users')`))
  return Object.fromEntries(rows.map(row => [row.relname, {
    updates: Number(row.updates), hotUpdates: Number(row.hot_updates), heapHit: Number(row.heap_hit), heapRead: Number(row.heap_read), indexHit: Number(row.index_hit), indexRead: Number(row.index_read)
  }])) as Counters
}

/** What a pass did to each table, per refresh (the pass's other loads write a few hundred rows against tens of thousands). */
function perRefresh (before: Counters, after: Counters, refreshes: number): Counters {
  const per = (a: number, b: number) => Math.round((b - a) / refreshes * 100) / 100
  return Object.fromEntries(Object.entries(after).map(([table, counters]) => {
    const from = before[table as keyof Counters]
    return [table, Object.fromEntries(Object.entries(counters).map(([name, value]) => [name, per(from[name as keyof TableCounters], value)]))]
  })) as unknown as Counters
}

const countersLine = (counters: Counters) => Object.entries(counters).map(([table, c]) =>
  `${table}: ${c.updates} updates (${c.hotUpdates} HOT), heap ${c.heapHit} hit / ${c.heapRead} read, indexes ${c.indexHit} hit / ${c.indexRead} read`).join('; ')

interface Pass { login: MeasuredLoad, refresh: MeasuredLoad, protected: MeasuredLoad, startupMs: number, perRefresh: Counters }

/** Starts Tessera, runs the three loads, stops it. */
async function pass (db: Db, userIds: number[]): Promise<Pass> {
  const refresh = await refreshTokens(db, userIds, Math.max(20_000, seconds * 6_000))
  const [access] = accessTokens(userIds, 1)
  const before = await tableCounters(db)
  const port = await freePort()
  const started = process.hrtime.bigint()
  const server = startNode(where.server, join(projectRoot, 'dist/src/server.js'), [], { ...env, PORT: String(port) })
  try {
    const base = `http://127.0.0.1:${port}`
    const startupMs = await waitUntilAnswering(`${base}/.well-known/jwks.json`, server, started)
    const figures = {
      startupMs,
      protected: await load({ url: base, method: 'GET', path: '/protected/', connections, bearer: [access!] }),
      refresh: await load({ url: base, method: 'POST', path: '/api/token/refresh/', connections, bodies: refresh.map(token => JSON.stringify({ refresh: token })) }),
      login: await load({ url: base, method: 'POST', path: '/api/token/', connections: Math.min(connections, 16), bodies: [JSON.stringify({ username: 'bench1', password: BENCH_PASSWORD })] })
    }
    log(`  protected ${Math.round(figures.protected.rps)}/s, refresh ${Math.round(figures.refresh.rps)}/s (p99 ${figures.refresh.p99} ms), login ${figures.login.rps.toFixed(1)}/s, start-up ${Math.round(startupMs)} ms`)
    for (const name of ['protected', 'refresh', 'login'] as const) log(`    during ${name}: ${machineLine(figures[name].machine)}`)
    await stop(server)
    // The server's connections have closed, and with them reported their counters.
    await new Promise(resolve => setTimeout(resolve, 1500))
    const counters = perRefresh(before, await tableCounters(db), figures.refresh.requests)
    log(`    per refresh: ${countersLine(counters)}`)
    return { ...figures, perRefresh: counters }
  } finally {
    await stop(server)
  }
}

/** The plans of the statements that must stay fast with millions of rows. */
async function plans (db: Db): Promise<string> {
  const jti = String(rowsOf(await db.execute(sql`select jti from refresh_tokens where expires_at > now() and blacklisted_at is null and session_id is not null limit 1`))[0]!.jti)
  const statements: Array<[string, string]> = [
    ['login: the user by name', "select * from users where lower(username) = lower('scale500000') limit 1"],
    ['protected, on a cache miss: the user\'s state', 'select id, is_active from users where id = 500000'],
    ['verify: is the token blacklisted', `select jti from refresh_tokens where jti = '${jti}' and blacklisted_at is not null limit 1`],
    ['refresh, fallback transaction: the claim (rolled back)', `insert into refresh_tokens (jti, user_id, issued_at, expires_at, blacklisted_at) values ('${jti}', 1, now(), now(), now())
      on conflict (jti) do update set blacklisted_at = excluded.blacklisted_at where refresh_tokens.blacklisted_at is null returning jti, session_id`],
    ['refresh, fallback transaction: the session touch', "update sessions set last_used_at = now() where id = (select session_id from refresh_tokens where jti = '" + jti + "') returning ended_at"],
    ['start-up: sessions ended in the last access-token lifetime', "select id, ended_at from sessions where ended_at > now() - interval '300 seconds'"],
    ['flushexpiredtokens: one batch (deleteInBatches in src/db/batches.ts)', `with deleted as (
        delete from refresh_tokens where ctid = any(array(select ctid from refresh_tokens where expires_at < now() limit 5000)) returning 1
      ) select count(*)::int as deleted from deleted`],
    ['logout everywhere: a user\'s live sessions', 'select id from sessions where user_id = 500000 and ended_at is null']
  ]
  const out: string[] = []
  // The usual rotation, as the server sends it: a named prepared statement, its values bound (rolled back).
  const [live] = rowsOf(await db.execute(sql`select jti, user_id from refresh_tokens
    where expires_at > now() and blacklisted_at is null and session_id is not null offset 1 limit 1`))
  const explainRotation = preparedStatement('scale_explain_rotation', sql`explain (analyze, buffers) ${USUAL_ROTATION}`)
  await db.transaction(async tx => {
    const now = new Date()
    const rows = rowsOf(await explainRotation(tx as unknown as Db, {
      jti: live!.jti,
      userId: live!.user_id,
      now: now.toISOString(),
      blacklistedAt: now.toISOString(),
      next: `scale-${process.pid}`,
      nextEnd: new Date(now.getTime() + 86_400_000).toISOString(),
      rotate: true
    }))
    out.push(`-- refresh: the usual rotation (USUAL_ROTATION in src/tokens/refresh-token-store.ts, rolled back)\n${rows.map(row => String(row['QUERY PLAN'])).join('\n')}\n`)
    tx.rollback()
  }).catch((error: unknown) => { if (!(error instanceof TransactionRollbackError)) throw error })
  for (const [name, statement] of statements) {
    // In a transaction rolled back: EXPLAIN ANALYZE runs the statement.
    await db.transaction(async tx => {
      const rows = rowsOf(await tx.execute(sql.raw(`explain (analyze, buffers) ${statement}`)))
      out.push(`-- ${name}\n${statement}\n${rows.map(row => String(row['QUERY PLAN'])).join('\n')}\n`)
      tx.rollback()
    }).catch((error: unknown) => { if (!(error instanceof TransactionRollbackError)) throw error })
  }
  return out.join('\n')
}

// Seeding runs statements of minutes: the longest statement timeout the settings allow (DATABASE_TIMEOUT,
// 5 s by default, would cancel them), and the tokens go in chunks that each finish well within it.
const database = createDb(configWith({ databaseUrl, dataDir: scratch, databaseTimeout: 300 }))
const TOKEN_CHUNK = 1_000_000
try {
  log(`bench:scale: ${userCount} users, ${tokenCount} refresh-token rows, ${tool}, server on CPU ${where.server ?? 'any'}`)
  await database.migrate()
  const userIds = await seedUsers(database.db, 1000, ARGON2)
  log('empty database:')
  const empty = await pass(database.db, userIds)

  let since = Date.now()
  const hash = await argon2.hash(BENCH_PASSWORD, { type: argon2.argon2id, memoryCost: ARGON2.memoryKib, timeCost: ARGON2.iterations })
  await database.db.execute(sql`insert into users (username, email, password)
    select 'scale' || g, 'scale' || g || '@example.com', ${hash} from generate_series(1, ${userCount}::int) as g`)
  log(`  ${userCount} users: ${elapsed(since)}`)
  since = Date.now()
  // A session per five tokens (a rotation chain); half the tokens expired, the rotated ones blacklisted.
  const sessionCount = Math.ceil(tokenCount / 5)
  await database.db.execute(sql`insert into sessions (id, user_id, created_at, last_used_at, absolute_expires_at, ended_at)
    select md5('s' || g), (select min(id) from users where username like 'scale%') + g % ${userCount}::int,
      now() - interval '2 days', now() - interval '1 day', now() + interval '28 days',
      case when g % 10 = 0 then now() - interval '1 day' end
    from generate_series(1, ${sessionCount}::int) as g`)
  log(`  ${sessionCount} sessions: ${elapsed(since)}`)
  since = Date.now()
  for (let from = 0; from < tokenCount; from += TOKEN_CHUNK) {
    const to = Math.min(from + TOKEN_CHUNK, tokenCount) - 1
    await database.db.execute(sql`insert into refresh_tokens (jti, user_id, issued_at, expires_at, blacklisted_at, replaced_by, session_id)
      select md5('t' || g), (select min(id) from users where username like 'scale%') + (g / 5 + 1) % ${userCount}::int,
        now() - interval '1 day', case when g % 2 = 0 then now() - interval '1 hour' else now() + interval '1 day' end,
        case when g % 5 <> 4 then now() - interval '1 day' end, case when g % 5 <> 4 then md5('t' || (g + 1)) end,
        md5('s' || (g / 5 + 1))
      from generate_series(${from}::int, ${to}::int) as g`)
  }
  log(`  ${tokenCount} refresh tokens: ${elapsed(since)}`)
  since = Date.now()
  await database.db.execute(sql`vacuum analyze`)
  log(`  vacuum analyze: ${elapsed(since)}`)
  // The seeding and the vacuum leave gigabytes of dirty pages: written now, not by the checkpointer and the
  // kernel during the loads below (an unpinned writer on the server's core would be measured as the data's cost).
  since = Date.now()
  await database.db.execute(sql`checkpoint`)
  execFileSync('sync')
  log(`  checkpoint and sync: ${elapsed(since)}`)
  const explained = await plans(database.db)

  log('full database:')
  const full = await pass(database.db, userIds)

  // flushexpiredtokens while refresh runs: p99 before and during.
  const refresh = await refreshTokens(database.db, userIds, Math.max(20_000, seconds * 6_000))
  const port = await freePort()
  const server = startNode(where.server, join(projectRoot, 'dist/src/server.js'), [], { ...env, PORT: String(port) })
  let flush: { ms: number, output: string }
  let during: MeasuredLoad
  try {
    const base = `http://127.0.0.1:${port}`
    await waitUntilAnswering(`${base}/.well-known/jwks.json`, server, process.hrtime.bigint())
    const flushStarted = Date.now()
    const flushing = new Promise<{ ms: number, output: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [join(projectRoot, 'dist/src/cli/main.js'), 'flushexpiredtokens'], { env, stdio: ['ignore', 'pipe', 'inherit'] })
      let output = ''
      child.stdout.on('data', chunk => { output += chunk })
      child.on('close', code => code === 0 ? resolve({ ms: Date.now() - flushStarted, output }) : reject(new Error(`flushexpiredtokens exited with ${code}`)))
    })
    during = await load({ url: base, method: 'POST', path: '/api/token/refresh/', connections, bodies: refresh.map(token => JSON.stringify({ refresh: token })) })
    const flushRunning = Date.now() - flushStarted
    flush = await flushing
    log(`  refresh during flushexpiredtokens: ${Math.round(during.rps)}/s, p99 ${during.p99} ms; the flush took ${flush.ms} ms (the load ran for the first ${flushRunning} ms)`)
    log(`    ${machineLine(during.machine)}`)
  } finally {
    await stop(server)
  }

  const ratio = (a: number, b: number) => Number((a / b).toFixed(2))
  const result = {
    date: new Date().toISOString(),
    tool,
    users: userCount,
    tokens: tokenCount,
    seconds,
    connections,
    placement: where,
    empty,
    full,
    ratios: {
      login: ratio(full.login.rps, empty.login.rps),
      refresh: ratio(full.refresh.rps, empty.refresh.rps),
      protected: ratio(full.protected.rps, empty.protected.rps),
      refreshP99DuringFlush: ratio(during.p99, full.refresh.p99)
    },
    flush: { ms: flush.ms, output: flush.output.trim() },
    refreshDuringFlush: during
  }
  mkdirSync(resultsDir, { recursive: true })
  writeFileSync(join(resultsDir, 'scale-latest.json'), `${JSON.stringify(result, null, 2)}\n`)
  writeFileSync(join(resultsDir, 'scale-plans.txt'), explained)
  process.stdout.write(`${JSON.stringify(result.ratios)}\nflush: ${result.flush.output} in ${flush.ms} ms\nplans: test/bench/results/scale-plans.txt\n`)
} finally {
  await database.close()
  const cleanup = postgres(adminUrl, { max: 1, onnotice: () => {} })
  await cleanup.unsafe(`drop database if exists ${databaseName} with (force)`)
  await cleanup.end()
  rmSync(scratch, { recursive: true, force: true })
}
