import { EventEmitter } from 'node:events'
import { sql } from 'drizzle-orm'
import postgres from 'postgres'
import type { Db, Tx } from '../db/index.js'

// How revocation messages reach every instance. PostgreSQL: NOTIFY on one
// channel, sent inside the transaction that makes the change (so it is
// delivered at commit, and only then), and LISTEN on a connection of its own.
// PGlite belongs to one process: an in-process emitter does.

export const CHANNEL = 'tessera_revocation'

export interface ChannelHandlers {
  onMessage: (payload: string) => void
  /** Listening (again): changes may have been missed meanwhile, the state must be reloaded. */
  onListening: () => Promise<void>
  /** The listening connection was lost: changes can be missed until onListening. */
  onLost: () => void
}

export interface RevocationChannel {
  publish: (db: Db | Tx, payload: string) => Promise<void>
  listen: (handlers: ChannelHandlers) => Promise<void>
  close: () => Promise<void>
}

export function inProcessChannel (): RevocationChannel {
  const emitter = new EventEmitter()
  return {
    async publish (_db, payload) {
      emitter.emit(CHANNEL, payload)
    },
    async listen (handlers) {
      emitter.on(CHANNEL, handlers.onMessage)
      await handlers.onListening()
    },
    async close () {
      emitter.removeAllListeners()
    }
  }
}

/* c8 ignore start: runs in the PostgreSQL lane (TEST_DATABASE_URL), which .ci/run runs on every
   submission; the default lane (PGlite) has no PostgreSQL server to listen to. */
async function notifyAll (db: Db | Tx, payload: string): Promise<void> {
  await db.execute(sql`select pg_notify(${CHANNEL}, ${payload})`)
}

/** A process that only makes changes (a command) publishes them and listens to nothing. */
export const postgresNotifier = (): Pick<RevocationChannel, 'publish'> => ({ publish: notifyAll })

export function postgresChannel (url: string, retryMs = 500): RevocationChannel {
  let handlers: ChannelHandlers | null = null
  let closing = false
  let retry: NodeJS.Timeout | undefined
  const client = postgres(url, {
    max: 1,
    idle_timeout: 0,
    max_lifetime: null,
    connection: { application_name: 'tessera-revocation' },
    onnotice: () => {},
    // @ts-expect-error postgres.js reads onnotify (its listen() uses it) but does not declare it
    onnotify: (channel: string, payload: string) => { if (channel === CHANNEL) handlers?.onMessage(payload) },
    onclose: () => {
      if (closing || handlers === null) return
      handlers.onLost()
      startListening()
    }
  })

  function startListening (): void {
    clearTimeout(retry)
    retry = setTimeout(() => {
      listenOnce().catch(() => { if (!closing) startListening() })
    }, retryMs)
  }

  async function listenOnce (): Promise<void> {
    await client`listen ${client(CHANNEL)}`
    await handlers!.onListening()
  }

  return {
    publish: notifyAll,
    async listen (given) {
      handlers = given
      await listenOnce()
    },
    async close () {
      closing = true
      clearTimeout(retry)
      await client.end({ timeout: 5 })
    }
  }
}
/* c8 ignore stop */
