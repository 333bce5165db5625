import { execFile } from 'node:child_process'
import { chownSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)
const BIN = '/usr/lib/postgresql/15/bin'

// A PostgreSQL server of the test's own (initdb, pg_ctl), in a temporary
// folder on a free port, that the test stops and starts to make faults.
// initdb refuses to run as root: as root, the commands run as `postgres`.

export interface OwnPostgres {
  url: string
  start: () => Promise<void>
  /** A fast shutdown: open connections are ended at once, as when a server goes down. */
  stop: () => Promise<void>
}

const asRoot = process.getuid?.() === 0

async function pgCommand (command: string, args: string[]): Promise<void> {
  const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(BIN, command), ...args]] : [join(BIN, command), args]
  await run(file, argv, { timeout: 60_000 })
}

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise(resolve => server.close(resolve))
  return port
}

interface Teardown { teardown: (fn: () => unknown) => void }

/** A new, stopped PostgreSQL server; stopped and deleted at teardown. */
export async function ownPostgres (t: Teardown): Promise<OwnPostgres> {
  const folder = mkdtempSync(join(tmpdir(), 'tessera-pg-'))
  if (asRoot) chownSync(folder, Number((await run('id', ['-u', 'postgres'])).stdout.trim()), Number((await run('id', ['-g', 'postgres'])).stdout.trim()))
  const data = join(folder, 'data')
  await pgCommand('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8'])
  const port = await freePort()
  const options = `-p ${port} -k ${folder} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`
  let running = false
  const server: OwnPostgres = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async start () {
      await pgCommand('pg_ctl', ['-D', data, '-o', options, '-l', join(folder, 'log'), '-w', 'start'])
      running = true
    },
    async stop () {
      await pgCommand('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop'])
      running = false
    }
  }
  t.teardown(async () => {
    if (running) await server.stop()
    rmSync(folder, { recursive: true, force: true })
  })
  return server
}
