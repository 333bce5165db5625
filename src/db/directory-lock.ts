import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export class DirectoryLockedError extends Error {
  override name = 'DirectoryLockedError'
}

function isRunning (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Takes the lock file DATA_DIR/pglite.pid for this process, or throws when a
 * live process holds it. A lock left by a process that died is taken over.
 * Returns the function that releases it.
 */
export function acquireDirectoryLock (dataDir: string): () => void {
  const lockFile = join(dataDir, 'pglite.pid')
  try {
    writeFileSync(lockFile, String(process.pid), { flag: 'wx', mode: 0o600 })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    const holder = Number(readFileSync(lockFile, 'utf8'))
    if (holder !== process.pid && Number.isInteger(holder) && holder > 0 && isRunning(holder)) {
      throw new DirectoryLockedError(
        `The embedded database in ${dataDir} is in use by process ${holder}. ` +
        'Stop that process first, or set DATABASE_URL to use PostgreSQL, which many processes can share.'
      )
    }
    writeFileSync(lockFile, String(process.pid), { mode: 0o600 })
  }
  return () => rmSync(lockFile, { force: true })
}
