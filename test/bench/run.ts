import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import postgres from 'postgres'
import { hashConcurrencyOf } from '../../src/auth/hash-queue.js'
import { configWith } from '../../src/config.js'
import { createDb } from '../../src/db/index.js'
import { projectRoot } from '../../src/paths.js'
import type { LoadResult, LoadSpec } from './load.js'
import { summarise } from './profile-summary.js'
import { freePort, hasWrk, measured, memoryBreakdown, placement, reportOptions, resultOf, startNode, stop, waitUntilAnswering, type MemoryBreakdown } from './processes.js'
import { accessTokens, BENCH_PASSWORD, BENCH_SIGNING_KEY, refreshTokens, seedUsers } from './seed.js'

// npm run bench: Tessera as a real process (dist/, LOG_LEVEL=warn) on
// PostgreSQL (or PGlite with --pglite), driven by autocannon in processes of
// its own, beside a bare Fastify route and the raw baselines, all in one run.
// Results go to test/bench/results/ (git-ignored). README.md "Performance".

const { values: flags } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    pglite: { type: 'boolean', default: false },
    'no-pin': { type: 'boolean', default: false },
    'database-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
    autocannon: { type: 'boolean', default: false },
    'malloc-arena-max': { type: 'string', default: '1' },
    'max-semi-space-size': { type: 'string', default: '8' },
    rounds: { type: 'string', default: '5' }
  }
})
const seconds = Number(flags.seconds)
const rounds = Number(flags.rounds)
/** Each load of a paired round: short, so that the bare route and Tessera run minutes apart at most. */
const ROUND_SECONDS = 3
const connections = Number(flags.connections)
const only = flags.only === undefined ? null : new Set(flags.only.split(','))
const wanted = (name: string) => only === null || only.has(name)
const where = placement(!flags['no-pin'])
// wrk when it is installed (it needs a fraction of autocannon's CPU per request), unless --autocannon.
const tool = !flags.autocannon && hasWrk() ? 'wrk' : 'autocannon'
const serverCores = where.server === null ? cpus().length : 1
const hashConcurrency = hashConcurrencyOf(0, serverCores)
const ARGON2 = { memoryKib: 19456, iterations: 2, parallelism: 1 }
const node = (script: string) => join(projectRoot, 'dist/test/bench', script)
const resultsDir = join(projectRoot, 'test/bench/results')
const scratch = mkdtempSync(join(tmpdir(), 'tessera-bench-'))

interface Row {
  name: string
  rps: number
  p50: number | null
  p99: number | null
  errors: number
  cpuPercent: number | null
  rssMb: number | null
  ratio: number | null
  /** Requests per second of server CPU time, and that as a ratio to the bare route's: what a shared machine does not skew. */
  perCpuSecond?: number
  cpuRatio?: number
  note?: string
  /** Tessera's memory at the end of the load. */
  memory?: MemoryBreakdown
}
const rows: Row[] = []

/** One paired round: the bare route's req/s, and the protected route's as a ratio to it (and per server CPU-second). */
interface Pair { bare: number, one: number, oneCpu: number, distinct: number | null, distinctCpu: number | null }

const median = (values: number[]): number | null => {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}
const log = (line: string) => process.stderr.write(`${line}\n`)

let loads = 0
async function load (spec: Omit<LoadSpec, 'seconds' | 'tool'> & { seconds?: number }): Promise<LoadResult> {
  const file = join(scratch, `load-${loads++}.json`)
  writeFileSync(file, JSON.stringify({ seconds, tool, ...spec }))
  return await resultOf<LoadResult>(startNode(where.load, node('load.js'), [file]))
}

async function runBaseline<T> (script: string, args: string[]): Promise<T> {
  return await resultOf<T>(startNode(where.server, node(script), args))
}

// The database: a fresh PostgreSQL database of our own, or a PGlite folder.
const adminUrl = flags['database-url']
const databaseName = `tessera_bench_${process.pid}`
let databaseUrl: string | undefined
if (!flags.pglite) {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${databaseName}`)
  await admin.end()
  const url = new URL(adminUrl)
  url.pathname = `/${databaseName}`
  databaseUrl = url.toString()
}
const dataDir = join(scratch, 'data')
const servers: Array<ReturnType<typeof startNode>> = []

try {
  log(`bench: ${tool}, ${seconds} s a load, ${connections} connections, ${flags.pglite ? 'PGlite' : 'PostgreSQL'}; ` +
    `server on CPU ${where.server ?? 'any'}, load on CPU ${where.load ?? 'any'}`)

  // Seeding, through the app's own database code (migrations included).
  const database = createDb(configWith({ databaseUrl, dataDir }))
  await database.migrate()
  const userIds = await seedUsers(database.db, 1000, ARGON2)
  const distinct = accessTokens(userIds, 10_000)
  const refreshCount = Math.max(20_000, seconds * (flags.pglite ? 2_000 : 6_000))
  const refresh = wanted('refresh') ? await refreshTokens(database.db, userIds, refreshCount) : []
  await database.close()
  const [single] = accessTokens(userIds, 1)

  // Every HTTP server of the bench, the baselines too, runs as npm start runs Tessera (README, RSS):
  // --max-semi-space-size= for V8's default, --malloc-arena-max= for glibc's.
  const semiSpace = flags['max-semi-space-size'] === '' ? [] : [`--max-semi-space-size=${flags['max-semi-space-size']}`]
  const mallocEnv = flags['malloc-arena-max'] === '' ? {} : { MALLOC_ARENA_MAX: flags['malloc-arena-max'] }
  const startBare = (port: number, parts: readonly string[] = []) =>
    startNode(where.server, node('bare-server.js'), [String(port), ...parts], { ...process.env, ...mallocEnv }, semiSpace)

  // The bare route first, alone on the server's CPU.
  const barePort = await freePort()
  const bare = startBare(barePort)
  servers.push(bare)
  await waitUntilAnswering(`http://127.0.0.1:${barePort}/protected/`, bare, process.hrtime.bigint())
  // The same request as GET /protected/ with one token (the bare route ignores the header), so that both parse the same bytes.
  const bareRun = await measured(bare.pid!, () => load({ url: `http://127.0.0.1:${barePort}`, method: 'GET', path: '/protected/', connections, bearer: [single!] }))
  await stop(bare)
  const bareRps = bareRun.result.rps
  const barePerCpuSecond = bareRun.result.rps / (bareRun.cpuPercent / 100)
  const record = (name: string, run: { result: LoadResult, cpuPercent: number, rssMb: number }, base: number | null, note?: string, memory?: MemoryBreakdown) => {
    const { rps, p50, p99, errors } = run.result
    const perCpuSecond = rps / (run.cpuPercent / 100)
    rows.push({
      name,
      rps,
      p50,
      p99,
      errors,
      cpuPercent: run.cpuPercent,
      rssMb: run.rssMb,
      ratio: base === null ? null : rps / base,
      perCpuSecond,
      cpuRatio: perCpuSecond / barePerCpuSecond,
      ...(note === undefined ? {} : { note }),
      ...(memory === undefined ? {} : { memory })
    })
    log(`  ${name}: ${Math.round(rps)} req/s, p99 ${p99} ms, ${errors} errors, ${Math.round(run.rssMb)} MB`)
  }
  record('bare Fastify route', bareRun, bareRps, 'same request as one token')

  // The same with Tessera's logger, then with its security headers too: what the parts of Tessera that are not
  // authentication cost alone (bare-server.ts), the baseline with which the protected route is also compared.
  let sameHeadersRps: number | null = null
  if (wanted('protected')) {
    for (const [name, parts, note] of [
      ['bare route with Tessera\'s logger', ['logger'], 'pino at warn, as src/app.ts sets it up'],
      ['bare route with Tessera\'s logger and headers', ['logger', 'headers'], 'and the 12 security headers']
    ] as const) {
      const partsPort = await freePort()
      const server = startBare(partsPort, parts)
      servers.push(server)
      await waitUntilAnswering(`http://127.0.0.1:${partsPort}/protected/`, server, process.hrtime.bigint())
      const run = await measured(server.pid!, () =>
        load({ url: `http://127.0.0.1:${partsPort}`, method: 'GET', path: '/protected/', connections, bearer: [single!] }))
      record(name, run, bareRps, note)
      await stop(server)
      if (name.endsWith('headers')) sameHeadersRps = run.result.rps
    }
  }

  // Tessera, from the built output.
  const port = await freePort()
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    JWT_SIGNING_KEY: BENCH_SIGNING_KEY,
    DATA_DIR: dataDir,
    // Every load comes from one address and a few usernames: throttling (on by default) would answer
    // nearly all of it 429. The bench measures the work behind the throttle; load shedding stays on.
    THROTTLE_ADDRESS_LIMIT: '0',
    THROTTLE_USERNAME_LIMIT: '0',
    ...(databaseUrl === undefined ? {} : { DATABASE_URL: databaseUrl }),
    ...mallocEnv
  }
  // --profile: a V8 CPU profile of the server's whole run, written when it exits.
  const profileDir = join(resultsDir, 'profiles', String(process.pid))
  const profile = flags.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []
  const startedAt = process.hrtime.bigint()
  // Where its memory is at the end of each load: a diagnostic report on a signal (processes.ts, memoryBreakdown).
  const reportDir = join(scratch, 'reports')
  mkdirSync(reportDir)
  const tessera = startNode(where.server, join(projectRoot, 'dist/src/server.js'), [], env, [...semiSpace, ...profile, ...reportOptions(reportDir)])
  servers.push(tessera)
  let serverOutput = ''
  tessera.stdout!.on('data', chunk => { serverOutput += chunk })
  tessera.stderr!.on('data', chunk => { serverOutput += chunk })
  const startupMs = await waitUntilAnswering(`http://127.0.0.1:${port}/.well-known/jwks.json`, tessera, startedAt)
  log(`  start-up to ready: ${Math.round(startupMs)} ms`)
  const url = `http://127.0.0.1:${port}`
  const loginBody = JSON.stringify({ username: 'bench1', password: BENCH_PASSWORD })
  const recordTessera = async (name: string, run: { result: LoadResult, cpuPercent: number, rssMb: number }, note?: string) =>
    record(name, run, bareRps, note, await memoryBreakdown(tessera.pid!, reportDir))
  let protectedRps: number | null = null

  if (wanted('protected')) {
    const run = await measured(tessera.pid!, () => load({ url, method: 'GET', path: '/protected/', connections, bearer: [single!] }))
    await recordTessera('GET /protected/, one token', run)
    protectedRps = run.result.rps
  }
  if (wanted('distinct')) {
    // Unmeasured, 2 s (several passes over the tokens): each token's first verification and each user's first
    // state query are a token's and a user's once in their lifetime, not what rotating through them costs.
    await load({ url, method: 'GET', path: '/protected/', connections, bearer: distinct, seconds: 2 })
    await recordTessera('GET /protected/, 10,000 tokens', await measured(tessera.pid!, () =>
      load({ url, method: 'GET', path: '/protected/', connections, bearer: distinct })), 'after 2 s unmeasured over the same tokens')
  }
  // Paired rounds: the bare route and the protected route alternately, ROUND_SECONDS each, and the median of
  // the rounds' ratios. On a shared machine the neighbours' load drifts over minutes, and one pair of 10-second
  // runs measures the drift as much as Tessera; alternating short runs see the same drift on both sides.
  const paired: Pair[] = []
  if (wanted('protected') && rounds > 0) {
    const pairPort = await freePort()
    const pairBare = startBare(pairPort)
    servers.push(pairBare)
    await waitUntilAnswering(`http://127.0.0.1:${pairPort}/protected/`, pairBare, process.hrtime.bigint())
    // A fresh process: 2 s unmeasured first, as Tessera has had its loads (its first round was slow while V8 compiled).
    await load({ url: `http://127.0.0.1:${pairPort}`, method: 'GET', path: '/protected/', connections, bearer: [single!], seconds: 2 })
    const short = (target: string, bearer: string[], pid: number) =>
      measured(pid, () => load({ url: target, method: 'GET', path: '/protected/', connections, bearer, seconds: ROUND_SECONDS }))
    const perCpu = (run: { result: LoadResult, cpuPercent: number }) => run.result.rps / (run.cpuPercent / 100)
    for (let round = 0; round < rounds; round++) {
      const base = await short(`http://127.0.0.1:${pairPort}`, [single!], pairBare.pid!)
      const one = await short(url, [single!], tessera.pid!)
      const many = wanted('distinct') ? await short(url, distinct, tessera.pid!) : null
      paired.push({
        bare: base.result.rps,
        one: one.result.rps / base.result.rps,
        oneCpu: perCpu(one) / perCpu(base),
        distinct: many === null ? null : many.result.rps / base.result.rps,
        distinctCpu: many === null ? null : perCpu(many) / perCpu(base)
      })
      log(`  paired round ${round + 1}: bare ${Math.round(base.result.rps)} req/s, one token ${paired.at(-1)!.one.toFixed(2)}×${many === null ? '' : `, 10,000 tokens ${paired.at(-1)!.distinct!.toFixed(2)}×`}`)
    }
    await stop(pairBare)
  }
  if (wanted('verify')) {
    await recordTessera('POST /api/token/verify/', await measured(tessera.pid!, () =>
      load({ url, method: 'POST', path: '/api/token/verify/', connections, bodies: distinct.map(token => JSON.stringify({ token })) })))
  }
  let refreshRun: { result: LoadResult, cpuPercent: number, rssMb: number } | null = null
  if (wanted('refresh')) {
    refreshRun = await measured(tessera.pid!, () =>
      load({ url, method: 'POST', path: '/api/token/refresh/', connections, bodies: refresh.map(token => JSON.stringify({ refresh: token })) }))
    await recordTessera('POST /api/token/refresh/', refreshRun, `${refreshCount} single-use tokens`)
  }
  let loginRun: { result: LoadResult, cpuPercent: number, rssMb: number } | null = null
  const loginConnections = Math.min(connections, 16)
  if (wanted('login')) {
    loginRun = await measured(tessera.pid!, () =>
      load({ url, method: 'POST', path: '/api/token/', connections: loginConnections, bodies: [loginBody] }))
    await recordTessera('POST /api/token/ (login)', loginRun, `${loginConnections} connections, HASH_CONCURRENCY ${hashConcurrency}`)
  }
  if (wanted('flood') && protectedRps !== null) {
    const floodConnections = 200
    const [protectedRun, flood] = await Promise.all([
      measured(tessera.pid!, () => load({ url, method: 'GET', path: '/protected/', connections, bearer: [single!] })),
      load({ url, method: 'POST', path: '/api/token/', connections: floodConnections, bodies: [loginBody] })
    ])
    await recordTessera('GET /protected/ during a login flood', protectedRun, `${(protectedRun.result.rps / protectedRps).toFixed(2)}× unloaded`)
    rows.push({
      name: 'the login flood itself',
      rps: flood.rps,
      p50: flood.p50,
      p99: flood.p99,
      errors: flood.errors,
      cpuPercent: null,
      rssMb: null,
      ratio: null,
      note: `${floodConnections} connections; ${flood.statuses['2xx'] ?? 0} logins, ${flood.statuses['5xx'] ?? 0} answered 503 (queue full)`
    })
  }
  await stop(tessera)
  // --profile: where the server's time went, summarised under the tables (the profile itself stays in profileDir).
  const profileSummary = flags.profile
    ? readdirSync(profileDir).filter(name => name.endsWith('.cpuprofile')).map(name =>
      `## Profile of the server (${name}, the whole run)\n\n${summarise(JSON.parse(readFileSync(join(profileDir, name), 'utf8')))}`).join('\n')
    : ''
  if (serverOutput.trim() !== '') log(`server output:\n${serverOutput.slice(-2000)}`)

  // The raw baselines, on the server's CPU, Tessera stopped.
  const baselines: Record<string, number> = {}
  if (wanted('login')) {
    const args = (library: string, concurrency: number) => [library, String(concurrency), String(Math.min(seconds, 10)), String(ARGON2.memoryKib), String(ARGON2.iterations), String(ARGON2.parallelism)]
    for (const library of ['argon2', '@node-rs/argon2']) {
      for (const concurrency of [...new Set([hashConcurrency, cpus().length])]) {
        const { perSecond } = await runBaseline<{ perSecond: number }>('argon2-raw.js', args(library, concurrency))
        baselines[`${library} ×${concurrency}`] = perSecond
        rows.push({ name: `raw ${library} verify, ${concurrency} at once`, rps: perSecond, p50: null, p99: null, errors: 0, cpuPercent: null, rssMb: null, ratio: null })
        log(`  raw ${library} ×${concurrency}: ${perSecond.toFixed(1)}/s`)
      }
    }
  }
  if (wanted('refresh') && databaseUrl !== undefined) {
    const loop = await runBaseline<{ perSecond: number, p50: number, p99: number }>('pg-loop.js', [databaseUrl, String(connections), '10', String(seconds)])
    baselines.pgLoop = loop.perSecond
    rows.push({ name: 'bare postgres.js UPDATE+INSERT transaction', rps: loop.perSecond, p50: loop.p50, p99: loop.p99, errors: 0, cpuPercent: null, rssMb: null, ratio: null, note: `${connections} loops, pool of 10` })
    log(`  bare postgres.js loop: ${loop.perSecond.toFixed(0)}/s`)
  }

  // The targets of issue #9, each a ratio within this run.
  const find = (name: string) => rows.find(row => row.name === name)
  const targets: Array<{ target: string, value: number | null, goal: string, met: boolean | null }> = []
  const check = (target: string, value: number | null | undefined, goal: string, met: (v: number) => boolean) =>
    targets.push({ target, value: value ?? null, goal, met: value == null ? null : met(value) })
  check('protected, one token / bare', find('GET /protected/, one token')?.ratio, '≥ 0.90', v => v >= 0.9)
  check('the same, per server CPU-second', find('GET /protected/, one token')?.cpuRatio, '≥ 0.90', v => v >= 0.9)
  const protectedOne = find('GET /protected/, one token')
  check('protected, one token / bare route with the same logger and headers', protectedOne && sameHeadersRps ? protectedOne.rps / sameHeadersRps : null, 'report', () => true)
  // With --rounds 0 (or without the protected load) there are none, and these rows say "not measured".
  const pairedRounds = paired.length === 0 ? 'the paired rounds' : `${paired.length} paired rounds`
  check(`protected, one token / bare: median of ${pairedRounds}`, median(paired.map(p => p.one)), '≥ 0.90', v => v >= 0.9)
  check('the same, per server CPU-second', median(paired.map(p => p.oneCpu)), '≥ 0.90', v => v >= 0.9)
  check('protected, 10,000 tokens / bare', find('GET /protected/, 10,000 tokens')?.ratio, '≥ 0.60', v => v >= 0.6)
  check('the same, per server CPU-second', find('GET /protected/, 10,000 tokens')?.cpuRatio, '≥ 0.60', v => v >= 0.6)
  check(`protected, 10,000 tokens / bare: median of ${pairedRounds}`, median(paired.flatMap(p => p.distinct ?? [])), '≥ 0.60', v => v >= 0.6)
  check('the same, per server CPU-second', median(paired.flatMap(p => p.distinctCpu ?? [])), '≥ 0.60', v => v >= 0.6)
  check('refresh / bare postgres.js loop', refreshRun && baselines.pgLoop ? refreshRun.result.rps / baselines.pgLoop : null, '≥ 0.70', v => v >= 0.7)
  const rawArgon2 = baselines[`argon2 ×${hashConcurrency}`]
  check(`login / raw argon2 ×${hashConcurrency}`, loginRun && rawArgon2 ? loginRun.result.rps / rawArgon2 : null, '≥ 0.90', v => v >= 0.9)
  const nodeRs = baselines[`@node-rs/argon2 ×${hashConcurrency}`]
  check(`raw argon2 / raw @node-rs/argon2 (×${hashConcurrency})`, rawArgon2 && nodeRs ? rawArgon2 / nodeRs : null, 'report', () => true)
  const during = find('GET /protected/ during a login flood')
  check('protected during a flood / unloaded', during && protectedRps ? during.rps / protectedRps : null, '≥ 0.60', v => v >= 0.6)
  check('protected p99 during a flood (ms)', during?.p99, '≤ 10', v => v <= 10)
  check('highest server RSS (MB)', Math.max(...rows.filter(r => !r.name.startsWith('bare') && r.rssMb !== null).map(r => r.rssMb!)), '≤ 150', v => v <= 150)
  check('start-up to ready (ms)', startupMs, '≤ 1000', v => v <= 1000)

  const machine = { cpus: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`, memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version, placement: where }
  const server = [...(env.MALLOC_ARENA_MAX === undefined ? [] : [`MALLOC_ARENA_MAX=${env.MALLOC_ARENA_MAX}`]), 'node', ...semiSpace].join(' ')
  const result = { date: new Date().toISOString(), tool, database: flags.pglite ? 'PGlite' : 'PostgreSQL', seconds, connections, hashConcurrency, machine, server, startupMs, rows, paired, baselines, targets }
  mkdirSync(resultsDir, { recursive: true })
  const stamp = result.date.replaceAll(':', '-').slice(0, 19)
  const markdown = toMarkdown(result) + (profileSummary === '' ? '' : `\n${profileSummary}`)
  for (const name of [`bench-${stamp}`, 'latest']) {
    writeFileSync(join(resultsDir, `${name}.json`), `${JSON.stringify(result, null, 2)}\n`)
    writeFileSync(join(resultsDir, `${name}.md`), markdown)
  }
  process.stdout.write(markdown)
} finally {
  for (const server of servers) await stop(server)
  if (databaseUrl !== undefined) {
    const admin = postgres(adminUrl, { max: 1, onnotice: () => {} })
    await admin.unsafe(`drop database if exists ${databaseName} with (force)`)
    await admin.end()
  }
  rmSync(scratch, { recursive: true, force: true })
}

function toMarkdown (result: { date: string, tool: string, database: string, seconds: number, connections: number, server: string, machine: Record<string, unknown>, rows: Row[], paired: Pair[], targets: Array<{ target: string, value: number | null, goal: string, met: boolean | null }> }): string {
  const n = (value: number | null, digits = 0) => value === null ? '' : value.toFixed(digits)
  const lines = [
    `# Tessera bench, ${result.date}`,
    '',
    `${result.database}; ${result.tool}; ${result.seconds} s a load, ${result.connections} connections; ${String(result.machine.cpus)}, ${String(result.machine.memoryGb)} GB, Node ${String(result.machine.node)}; ` +
      `placement ${JSON.stringify(result.machine.placement)}; server started as \`${result.server} dist/src/server.js\` (the bare routes with the same flags)`,
    '',
    '| load | req/s | p50 ms | p99 ms | errors | server CPU % | server RSS MB | × bare | req per CPU-s | × bare per CPU-s | note |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...result.rows.map(r => `| ${r.name} | ${n(r.rps)} | ${n(r.p50, 1)} | ${n(r.p99, 1)} | ${r.errors} | ${n(r.cpuPercent)} | ${n(r.rssMb)} | ${n(r.ratio, 2)} | ` +
      `${n(r.perCpuSecond ?? null)} | ${n(r.cpuRatio ?? null, 2)} | ${r.note ?? ''} |`),
    '',
    ...(result.paired.length === 0
      ? []
      : [
          `Paired rounds (${ROUND_SECONDS} s each, alternately): the protected route / the bare route in the same round, req/s and per server CPU-second.`,
          '',
          '| round | bare req/s | one token | per CPU-s | 10,000 tokens | per CPU-s |',
          '|---:|---:|---:|---:|---:|---:|',
          ...result.paired.map((p, i) => `| ${i + 1} | ${n(p.bare)} | ${n(p.one, 2)} | ${n(p.oneCpu, 2)} | ${n(p.distinct, 2)} | ${n(p.distinctCpu, 2)} |`),
          ''
        ]),
    ...(result.rows.some(r => r.memory !== undefined)
      ? [
          'Tessera\'s memory at the end of each load, MB (`/proc/<pid>/status`, and V8\'s heap and external memory from a diagnostic report): ' +
            'file-backed pages are the node binary and libraries; the anonymous ones are V8\'s heap and the rest (malloc: argon2\'s blocks, Buffers, OpenSSL, libuv; thread stacks).',
          '',
          '| load | RSS | file-backed | anonymous | V8 heap | anonymous outside V8\'s heap | external (Buffers) |',
          '|---|---:|---:|---:|---:|---:|---:|',
          ...result.rows.filter(r => r.memory !== undefined).map(({ name, memory: m }) =>
            `| ${name} | ${n(m!.rss)} | ${n(m!.file)} | ${n(m!.anonymous)} | ${n(m!.v8Heap)} | ${n(m!.anonymous - m!.v8Heap)} | ${n(m!.external, 1)} |`),
          ''
        ]
      : []),
    '| target | measured | goal | met |',
    '|---|---:|---|---|',
    ...result.targets.map(t => `| ${t.target} | ${n(t.value, 2)} | ${t.goal} | ${t.met === null ? 'not measured' : t.met ? 'yes' : '**no**'} |`),
    ''
  ]
  return lines.join('\n')
}
