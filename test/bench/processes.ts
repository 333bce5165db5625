import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'

// Child processes of the bench: where they run (pinned with taskset on a
// machine with two cores or more), what CPU time and memory they use.

export interface Placement {
  /** The CPU list (taskset -c) of the server and of the baselines, or null when not pinned. */
  server: string | null
  /** The CPU list of the load generator, or null when not pinned. */
  load: string | null
}

function onPath (command: string): boolean {
  return (process.env.PATH ?? '').split(':').some(dir => existsSync(join(dir, command)))
}

export const hasWrk = () => onPath('wrk')

/** Server and baselines on CPU 0, load generators on the others; nothing pinned on one core or without taskset. */
export function placement (pin: boolean): Placement {
  const cores = availableParallelism()
  if (!pin || cores < 2 || !onPath('taskset')) return { server: null, load: null }
  return { server: '0', load: cores === 2 ? '1' : `1-${cores - 1}` }
}

/** Starts `node script args` on the given CPUs. */
export function startNode (cpus: string | null, script: string, args: string[], env: NodeJS.ProcessEnv = process.env, nodeOptions: string[] = []): ChildProcess {
  const command = cpus === null ? process.execPath : 'taskset'
  const node = [...nodeOptions, script, ...args]
  const argv = cpus === null ? node : ['-c', cpus, process.execPath, ...node]
  return spawn(command, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] })
}

/** The JSON a child prints on its last stdout line, once it exits with 0. */
export async function resultOf<T> (child: ChildProcess): Promise<T> {
  let out = ''
  let err = ''
  child.stdout!.on('data', chunk => { out += chunk })
  child.stderr!.on('data', chunk => { err += chunk })
  const code = await new Promise<number | null>(resolve => child.on('close', resolve))
  if (code !== 0) throw new Error(`child exited with ${code}: ${err.slice(-2000)}`)
  return JSON.parse(out.trim().split('\n').at(-1)!) as T
}

export async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise(resolve => server.close(resolve))
  return port
}

const CLOCK_TICKS = 100

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
export function cpuSeconds (pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
}

/** What the machine did between two samples (machineSample): where the CPU time went. */
export interface MachineUse {
  /** CPU used by every PostgreSQL process (server, backends, autovacuum, checkpointer, writers), percent of one core. */
  postgresCpuPercent: number
  /**
   * Per CPU (cpu0, cpu1, ...): percent of the time busy (user, nice, system, irq, softirq), waiting on I/O, and
   * stolen (the hypervisor ran another guest while this one had work: on a shared machine, a neighbour's load).
   */
  cpus: Array<{ busy: number, iowait: number, steal: number }>
}

export interface MachineSample { at: bigint, postgres: number, cpus: number[][] }

/** CPU seconds used so far by every process named `postgres`, from /proc (Linux). */
function postgresCpuSeconds (): number {
  let total = 0
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) !== 'postgres') continue
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      total += (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return total
}

/** Takes a sample of the machine's CPU counters (/proc/stat) and of PostgreSQL's processes. */
export function machineSample (): MachineSample {
  const cpus = readFileSync('/proc/stat', 'utf8').split('\n').filter(line => /^cpu\d+ /.test(line))
    .map(line => line.split(/\s+/).slice(1, 9).map(Number))
  return { at: process.hrtime.bigint(), postgres: postgresCpuSeconds(), cpus }
}

/** What happened between two samples. */
export function machineUse (from: MachineSample, to: MachineSample): MachineUse {
  const seconds = Number(to.at - from.at) / 1e9
  const percent = (value: number) => Math.round(value * 10) / 10
  return {
    postgresCpuPercent: percent((to.postgres - from.postgres) / seconds * 100),
    cpus: to.cpus.map((counters, cpu) => {
      // user nice system idle iowait irq softirq steal
      const delta = counters.map((value, i) => value - from.cpus[cpu]![i]!)
      const total = delta.reduce((sum, value) => sum + value, 0) || 1
      const busy = delta[0]! + delta[1]! + delta[2]! + delta[5]! + delta[6]!
      return { busy: percent(busy / total * 100), iowait: percent(delta[4]! / total * 100), steal: percent(delta[7]! / total * 100) }
    })
  }
}

/** Resident memory in MB, from /proc (Linux). */
export function rssMb (pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return Number(match![1]) / 1024
}

/** Where a node process's resident memory is, at one moment (MB). */
export interface MemoryBreakdown {
  rss: number
  /** Mapped from files: the node binary and shared libraries, shared with other processes. */
  file: number
  /** Anonymous: V8's heap, malloc (argon2's blocks, Buffers, OpenSSL, libuv), thread stacks. */
  anonymous: number
  /** V8's heap (reserved for it, resident or not), and the memory of Buffers and ArrayBuffers outside it. */
  v8Heap: number
  external: number
}

/**
 * The signal on which a node process started with `reportOptions` writes a diagnostic report. Not Node's
 * default, SIGUSR2: close-with-grace shuts Tessera down on it (src/server.ts). SIGURG is ignored by default
 * and used by nothing in node or libuv.
 */
const REPORT_SIGNAL = 'SIGURG'
/** node flags that make a process write a diagnostic report (JSON) to `directory` on REPORT_SIGNAL. */
export const reportOptions = (directory: string) =>
  ['--report-on-signal', `--report-signal=${REPORT_SIGNAL}`, `--report-directory=${directory}`, '--report-compact']

/**
 * A process's memory now: /proc's split of its RSS, and from a diagnostic report (the process must run with
 * `reportOptions(directory)`, and the directory exist; Node writes it on the signal, between two turns of its event loop) V8's heap
 * and its external memory. The report holds the process's environment, so it is read and deleted at once.
 */
export async function memoryBreakdown (pid: number, directory: string, timeoutMs = 10_000): Promise<MemoryBreakdown> {
  const before = new Set(readdirSync(directory))
  process.kill(pid, REPORT_SIGNAL)
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const written = readdirSync(directory).find(name => !before.has(name) && name.endsWith('.json'))
    if (written !== undefined) {
      const path = join(directory, written)
      let report: { javascriptHeap: { totalMemory: number, externalMemory: number } } | undefined
      try {
        report = JSON.parse(readFileSync(path, 'utf8'))
      } catch {
        // Still being written: read it again on the next turn.
      }
      if (report !== undefined) {
        rmSync(path)
        const status = readFileSync(`/proc/${pid}/status`, 'utf8')
        const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)![1]) / 1024
        return {
          rss: kb('VmRSS'),
          file: kb('RssFile'),
          anonymous: kb('RssAnon'),
          v8Heap: report.javascriptHeap.totalMemory / 2 ** 20,
          external: report.javascriptHeap.externalMemory / 2 ** 20
        }
      }
    }
    if (Date.now() > deadline) throw new Error(`no diagnostic report from ${pid} in ${directory}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

/** Samples a process while `work` runs: CPU used (percent of one core) and the highest RSS. */
export async function measured<T> (pid: number, work: () => Promise<T>): Promise<{ result: T, cpuPercent: number, rssMb: number }> {
  const startCpu = cpuSeconds(pid)
  const started = process.hrtime.bigint()
  let peak = rssMb(pid)
  const timer = setInterval(() => { peak = Math.max(peak, rssMb(pid)) }, 200)
  try {
    const result = await work()
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    peak = Math.max(peak, rssMb(pid))
    return { result, cpuPercent: (cpuSeconds(pid) - startCpu) / seconds * 100, rssMb: peak }
  } finally {
    clearInterval(timer)
  }
}

/** Polls `url` until it answers (any status); the time taken in ms. */
export async function waitUntilAnswering (url: string, child: ChildProcess, startedAt: bigint, timeoutMs = 30_000): Promise<number> {
  let exited = false
  child.once('close', () => { exited = true })
  for (;;) {
    if (exited) throw new Error(`the server at ${url} exited before answering`)
    try {
      await fetch(url)
      return Number(process.hrtime.bigint() - startedAt) / 1e6
    } catch {
      if (Number(process.hrtime.bigint() - startedAt) / 1e6 > timeoutMs) throw new Error(`no answer from ${url}`)
      await new Promise(resolve => setTimeout(resolve, 5))
    }
  }
}

export async function stop (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const closed = new Promise(resolve => child.once('close', resolve))
  child.kill('SIGTERM')
  await closed
}
