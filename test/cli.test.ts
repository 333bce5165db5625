import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eq } from 'drizzle-orm'
import t from 'tap'
import { configWith } from '../src/config.js'
import { createDb } from '../src/db/index.js'
import { acquireDirectoryLock } from '../src/db/directory-lock.js'
import { refreshTokens, securityEvents, sessions, users } from '../src/db/schema.js'
import { freshDatabaseUrl } from './helpers/app.js'
import { isolatedEnv, runNode } from './helpers/spawn.js'
import { checkResponses } from './helpers/contract.js'

const MAIN = 'src/cli/main.ts'
const STRONG = 'violet-Otter-lantern-42'

function tempDir (t: { teardown: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-cli-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function readUsers (dataDir: string) {
  const database = createDb({ dataDir, databaseUrl: undefined })
  try {
    await database.migrate()
    return await database.db.select().from(users)
  } finally {
    await database.close()
  }
}

t.test('createsuperuser --password-stdin creates a staff superuser with an argon2id hash', async t => {
  const dataDir = tempDir(t)
  const run = await runNode(MAIN, ['createsuperuser', '--username', 'admin', '--email', 'Admin@EXAMPLE.com', '--password-stdin'], isolatedEnv(dataDir), `${STRONG}\n`)
  t.equal(run.code, 0, run.stderr)
  t.equal(run.stdout, 'Superuser created successfully.\n')
  const [admin] = await readUsers(dataDir)
  t.equal(admin?.username, 'admin')
  t.equal(admin?.email, 'Admin@example.com', 'the domain is lower-cased, as Django normalizes it')
  t.equal(admin?.isStaff, true)
  t.equal(admin?.isSuperuser, true)
  t.match(admin?.password, /^\$argon2id\$v=19\$m=1024,(t=1,p=1|p=1,t=1)\$/)
  t.notMatch(admin?.password, STRONG)

  const again = await runNode(MAIN, ['createsuperuser', '--username=ADMIN', '--password-stdin'], isolatedEnv(dataDir), STRONG)
  t.equal(again.code, 1)
  t.equal(again.stderr, 'Error: A user with that username already exists.\n')
})

t.test('createsuperuser refuses what registration refuses, with Django\'s messages', async t => {
  const dataDir = tempDir(t)
  const weak = await runNode(MAIN, ['createsuperuser', '--username', 'root2', '--password-stdin'], isolatedEnv(dataDir), '12345678')
  t.equal(weak.code, 1)
  t.equal(weak.stderr, 'Error: This password is too common.\nError: This password is entirely numeric.\n')
  const badName = await runNode(MAIN, ['createsuperuser', '--username', 'no spaces', '--email', 'x', '--password-stdin'], isolatedEnv(dataDir), STRONG)
  t.equal(badName.code, 1)
  t.match(badName.stderr, /Error: Enter a valid username.*\nError: Enter a valid email address\.\n/)
  t.same(await readUsers(dataDir), [])
})

t.test('createsuperuser usage errors', async t => {
  const dataDir = tempDir(t)
  const noName = await runNode(MAIN, ['createsuperuser', '--password-stdin'], isolatedEnv(dataDir), STRONG)
  t.equal(noName.code, 1)
  t.match(noName.stderr, /--password-stdin needs --username/)
  const unknown = await runNode(MAIN, ['createsuperuser', '--superpower'], isolatedEnv(dataDir))
  t.equal(unknown.code, 1)
  t.match(unknown.stderr, /unknown option --superpower/)
  const stray = await runNode(MAIN, ['createsuperuser', 'admin'], isolatedEnv(dataDir))
  t.equal(stray.code, 1)
  t.match(stray.stderr, /unexpected argument: admin/)
  const noTty = await runNode(MAIN, ['createsuperuser', '--username', 'x'], isolatedEnv(dataDir))
  t.equal(noTty.code, 1)
  t.match(noTty.stderr, /--username and --email go with --password-stdin; without options it asks/)
})

t.test('createsuperuser asks, as Django\'s does, when given no options', async t => {
  const dataDir = tempDir(t)
  const answers = [
    'bad name', 'boss', // a refused username is asked again
    'not-an-email', 'boss@example.com',
    STRONG, 'something else', // passwords that differ
    '   ', '   ', // blank
    'password', 'password', 'n', // too common, not bypassed
    STRONG, STRONG
  ].join('\n') + '\n'
  const run = await runNode(MAIN, ['createsuperuser'], isolatedEnv(dataDir), answers)
  t.equal(run.code, 0, run.stderr)
  t.match(run.stdout, /^Username \(leave blank to use '[^']+'\): Username .*Email address: Email address: Password: \nPassword \(again\): \n/s)
  t.notMatch(run.stdout, STRONG, 'passwords are not echoed')
  t.match(run.stderr, /Error: Enter a valid username/)
  t.match(run.stderr, /Error: Enter a valid email address\./)
  t.match(run.stderr, /Error: Your passwords didn't match\./)
  t.match(run.stderr, /Error: Blank passwords aren't allowed\./)
  t.match(run.stderr, /This password is too common\./)
  t.match(run.stdout, /Bypass password validation and create user anyway\? \[y\/N\]: .*Superuser created successfully\.\n$/s)
  const [boss] = await readUsers(dataDir)
  t.equal(boss?.username, 'boss')
  t.equal(boss?.isSuperuser, true)
})

t.test('createsuperuser lets the person at the terminal bypass the validators; a blank username takes the default', async t => {
  const dataDir = tempDir(t)
  const run = await runNode(MAIN, ['createsuperuser'], isolatedEnv(dataDir), ['', '', 'password', 'password', 'y'].join('\n') + '\n')
  t.equal(run.code, 0, run.stderr)
  const [user] = await readUsers(dataDir)
  t.ok(user !== undefined && user.username.length > 0, 'the login name was used')
  t.equal(user?.email, '')
})

t.test('createsuperuser stops when the input ends', async t => {
  const dataDir = tempDir(t)
  const run = await runNode(MAIN, ['createsuperuser'], isolatedEnv(dataDir), 'someone\n')
  t.equal(run.code, 1)
  t.match(run.stderr, /input ended before the superuser was complete/)
})

t.test('flushexpiredtokens deletes the expired records only', async t => {
  const dataDir = tempDir(t)
  const databaseUrl = await freshDatabaseUrl(t)
  const config = configWith({ dataDir, databaseUrl })
  const database = createDb(config)
  await database.migrate()
  const [user] = await database.db.insert(users).values({ username: 'u', password: 'x' }).returning()
  const now = Date.now()
  await database.db.insert(refreshTokens).values([
    { jti: 'old1', userId: user!.id, issuedAt: new Date(now - 7200e3), expiresAt: new Date(now - 3600e3) },
    { jti: 'old2', userId: user!.id, issuedAt: new Date(now - 7200e3), expiresAt: new Date(now - 1e3), blacklistedAt: new Date(now - 5e3) },
    { jti: 'live', userId: user!.id, issuedAt: new Date(now), expiresAt: new Date(now + 3600e3) }
  ])
  // Sessions: past their absolute end; ended with every token expired; ended with a
  // token still live (kept, so that a replay of it still finds it blacklisted); live.
  const session = (id: string, absoluteExpiresAt: number, endedAt: number | null) =>
    ({ id, userId: user!.id, createdAt: new Date(now - 7200e3), lastUsedAt: new Date(now - 7200e3), absoluteExpiresAt: new Date(absoluteExpiresAt), endedAt: endedAt === null ? null : new Date(endedAt) })
  await database.db.insert(sessions).values([
    session('past', now - 1e3, null),
    session('ended', now + 3600e3, now - 5e3),
    session('endedlive', now + 3600e3, now - 5e3),
    session('live', now + 3600e3, null)
  ])
  await database.db.insert(refreshTokens).values([
    { jti: 'pastlast', userId: user!.id, issuedAt: new Date(now - 7200e3), expiresAt: new Date(now - 2e3), sessionId: 'past' },
    { jti: 'endedlast', userId: user!.id, issuedAt: new Date(now - 7200e3), expiresAt: new Date(now - 3e3), sessionId: 'ended', blacklistedAt: new Date(now - 5e3) },
    { jti: 'endedlive', userId: user!.id, issuedAt: new Date(now - 10e3), expiresAt: new Date(now + 3600e3), sessionId: 'endedlive', blacklistedAt: new Date(now - 5e3) }
  ])
  // SECURITY_EVENT_RETENTION (90 days by default): the older events go.
  const day = 86400e3
  await database.db.insert(securityEvents).values([
    { at: new Date(now - 91 * day), type: 'login_succeeded', userId: user!.id },
    { at: new Date(now - 90 * day - 60e3), type: 'logout', userId: user!.id },
    { at: new Date(now - 89 * day), type: 'token_refreshed', userId: user!.id }
  ])
  await database.close()

  const env = isolatedEnv(dataDir, { DATABASE_URL: databaseUrl ?? '' })
  const run = await runNode(MAIN, ['flushexpiredtokens'], env)
  t.equal(run.code, 0, run.stderr)
  t.equal(run.stdout, 'Deleted 4 expired refresh token records.\nDeleted 2 ended or expired sessions.\nDeleted 2 security events older than the retention.\n')
  const again = await runNode(MAIN, ['flushexpiredtokens'], env)
  t.equal(again.stdout, 'Deleted 0 expired refresh token records.\nDeleted 0 ended or expired sessions.\nDeleted 0 security events older than the retention.\n')
  const one = createDb(config)
  await one.db.insert(refreshTokens).values({ jti: 'old3', userId: user!.id, issuedAt: new Date(now - 7200e3), expiresAt: new Date(now - 3600e3) })
  await one.db.insert(sessions).values(session('past2', now - 1e3, null))
  await one.close()
  const shorter = { ...env, SECURITY_EVENT_RETENTION: '1d' }
  t.equal((await runNode(MAIN, ['flushexpiredtokens'], shorter)).stdout,
    'Deleted 1 expired refresh token record.\nDeleted 1 ended or expired session.\nDeleted 1 security event older than the retention.\n')

  const check = createDb(config)
  const rows = await check.db.select({ jti: refreshTokens.jti }).from(refreshTokens).orderBy(refreshTokens.jti)
  const left = await check.db.select({ id: sessions.id }).from(sessions).orderBy(sessions.id)
  await check.close()
  t.same(rows, [{ jti: 'endedlive' }, { jti: 'live' }])
  t.same(left, [{ id: 'endedlive' }, { id: 'live' }])
  t.equal((await runNode(MAIN, ['flushexpiredtokens', '--now'], env)).code, 1)
})

t.test('migrate applies the migrations, and again is a no-op', async t => {
  const dataDir = join(tempDir(t), 'data')
  const first = await runNode(MAIN, ['migrate'], isolatedEnv(dataDir))
  t.equal(first.code, 0, first.stderr)
  t.equal(first.stdout, 'Migrations applied (pglite).\n')
  t.equal((await runNode(MAIN, ['migrate'], isolatedEnv(dataDir))).code, 0)
  t.equal(statSync(dataDir).mode & 0o777, 0o700, 'DATA_DIR is made private')
  t.equal((await runNode(MAIN, ['migrate', 'extra'], isolatedEnv(dataDir))).code, 1)
  const postgres = await freshDatabaseUrl(t)
  if (postgres !== undefined) {
    const onPostgres = await runNode(MAIN, ['migrate'], isolatedEnv(dataDir, { DATABASE_URL: postgres }))
    t.equal(onPostgres.stdout, 'Migrations applied (postgres).\n')
  }
})

t.test('a command refuses an embedded database another process holds', async t => {
  const dataDir = tempDir(t)
  const release = acquireDirectoryLock(dataDir)
  t.teardown(release)
  const run = await runNode(MAIN, ['migrate'], isolatedEnv(dataDir))
  t.equal(run.code, 1)
  t.match(run.stderr, new RegExp(`The embedded database in ${dataDir} is in use by process ${process.pid}\\. Stop that process first, or set DATABASE_URL`))
})

t.test('main: unknown command and bad configuration', async t => {
  const dataDir = tempDir(t)
  const unknown = await runNode(MAIN, ['dance'], isolatedEnv(dataDir))
  t.equal(unknown.code, 2)
  t.match(unknown.stderr, /usage: main\.js <createsuperuser\|flushexpiredtokens\|keys:generate\|keys:retire\|keys:rotate\|migrate\|openapi\|users:import>/)
  const badConfig = await runNode(MAIN, ['migrate'], isolatedEnv(dataDir, { ARGON2_ITERATIONS: 'lots' }))
  t.equal(badConfig.code, 1)
  t.match(badConfig.stderr, /ARGON2_ITERATIONS="lots" is not valid: expected argon2id iterations, 1 to 100/)
})

t.test('users created by the CLI can log in to the server', async t => {
  const dataDir = tempDir(t)
  await runNode(MAIN, ['createsuperuser', '--username', 'admin', '--password-stdin'], isolatedEnv(dataDir), STRONG)
  const [admin] = await readUsers(dataDir)
  const { buildApp } = await import('../src/app.js')
  const app = checkResponses(await buildApp(configWith({ dataDir, jwtSigningKey: 'k'.repeat(32), argon2MemoryKib: 1024, argon2Iterations: 1 }), { logger: false }))
  t.teardown(() => app.close())
  const login = await app.inject({ method: 'POST', url: '/api/token/', payload: { username: 'admin', password: STRONG } })
  t.equal(login.statusCode, 200)
  const me = await app.inject({ method: 'GET', url: '/api/users/me/', headers: { authorization: `Bearer ${login.json().access}` } })
  t.equal(me.json().id, admin?.id)
  t.equal(me.json().is_superuser, true)
  const rows = await app.database.db.select().from(users).where(eq(users.id, admin!.id))
  t.equal(rows.length, 1)
})

t.test('createsuperuser: a username taken by the time the user is created is not overruled', async t => {
  const dataDir = tempDir(t)
  await runNode(MAIN, ['createsuperuser', '--username', 'taken', '--password-stdin'], isolatedEnv(dataDir), STRONG)
  const run = await runNode(MAIN, ['createsuperuser'], isolatedEnv(dataDir), ['Taken', '', STRONG, STRONG].join('\n') + '\n')
  t.equal(run.code, 1)
  t.equal(run.stderr, 'A user with that username already exists.\nthe superuser was not created\n')
})

t.test('createsuperuser on a terminal does not echo the password', async t => {
  // script(1) gives the command a pseudo-terminal, as a person at a shell has.
  const dataDir = tempDir(t)
  const command = [process.execPath, ...process.execArgv, join(process.cwd(), MAIN), 'createsuperuser']
    .map(arg => `'${arg.replaceAll("'", "'\\''")}'`).join(' ')
  const { spawn } = await import('node:child_process')
  const child = spawn('script', ['-qfec', command, '/dev/null'], { env: { ...process.env, ...isolatedEnv(dataDir) } })
  let output = ''
  const answers = ['tty-admin', 'tty@example.com', STRONG, STRONG]
  child.stdout.on('data', chunk => {
    output += chunk
    // Answer each prompt as it appears, as a person would.
    if (/(Username \(leave blank[^:]*|Email address|Password|Password \(again\)): $/.test(output) && answers.length > 0) {
      child.stdin.write(answers.shift() + '\r')
    }
  })
  const code = await new Promise(resolve => child.on('close', resolve))
  t.equal(code, 0, output)
  t.match(output, /Superuser created successfully\./)
  t.match(output, /tty-admin/, 'the username is echoed')
  t.notOk(output.includes(STRONG), 'the password is not')
})

t.test('a command reports an unexpected failure by its message', async t => {
  const dataDir = tempDir(t)
  const run = await runNode(MAIN, ['migrate'], isolatedEnv(dataDir, { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' }))
  t.equal(run.code, 1)
  t.match(run.stderr, /^migrate failed: .*ECONNREFUSED/)
})

t.test('openapi writes the document where it is told', async t => {
  const dataDir = tempDir(t)
  const out = join(dataDir, 'openapi.json')
  const run = await runNode(MAIN, ['openapi', '--out', out], isolatedEnv(dataDir))
  t.equal(run.code, 0, run.stderr)
  t.equal(run.stdout, `Wrote ${out}\n`)
  const { generateOpenApi } = await import('../src/cli/openapi.js')
  t.equal(readFileSync(out, 'utf8'), await generateOpenApi())
  t.equal((await runNode(MAIN, ['openapi', '--out'], isolatedEnv(dataDir))).code, 1)
  t.equal((await runNode(MAIN, ['openapi', '--other', 'x'], isolatedEnv(dataDir))).code, 1)
})
