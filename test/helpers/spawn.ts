import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { projectRoot } from '../../src/paths.js'

export interface Finished { code: number | null, stdout: string, stderr: string }

/**
 * Runs one of the project's TypeScript entry points in a child process, with
 * this process's loader flags (tap's TypeScript loader and coverage).
 */
export function startNode (script: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, [...process.execArgv, join(projectRoot, script), ...args], {
    cwd: projectRoot,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe']
  })
}

export async function runNode (script: string, args: string[], env: NodeJS.ProcessEnv, input = ''): Promise<Finished> {
  const child = startNode(script, args, env)
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', chunk => { stdout += chunk })
  child.stderr!.on('data', chunk => { stderr += chunk })
  child.stdin!.end(input)
  const code = await new Promise<number | null>(resolve => child.on('close', resolve))
  return { code, stdout, stderr }
}

/** Environment for a child that must not inherit the suite's database lane or a developer's settings. */
export function isolatedEnv (dataDir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    DATA_DIR: dataDir,
    DATABASE_URL: '',
    JWT_SIGNING_KEY: '',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    ARGON2_MEMORY_KIB: '1024',
    ARGON2_ITERATIONS: '1',
    // As HARDENING_OFF in helpers/app.ts: tests log in from one address far more often than a person would,
    // and a machine busy with the suite stalls event loops.
    THROTTLE_ADDRESS_LIMIT: '0',
    THROTTLE_USERNAME_LIMIT: '0',
    MAX_EVENT_LOOP_DELAY: '0',
    // Hash threads at the event loop's priority: the suite's other processes share the cores, and niced
    // threads would wait behind them (test/shutdown.test.ts's logins ran past close-with-grace's 10 s).
    // test/hash-threads.test.ts tests the default.
    HASH_THREAD_NICE: '0',
    ...extra
  }
}
