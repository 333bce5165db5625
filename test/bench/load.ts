import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import autocannon from 'autocannon'

// The load generator, a process of its own: wrk (when the bench found it) or
// autocannon, with the spec the bench writes to a file; prints one JSON line
// with the figures.

export interface LoadSpec {
  url: string
  method: 'GET' | 'POST'
  path: string
  connections: number
  seconds: number
  /** Requests carry `Authorization: Bearer <token>`, the next of these each time. */
  bearer?: string[]
  /** POST bodies (JSON), the next of these each time. */
  bodies?: string[]
  tool: 'wrk' | 'autocannon'
}

export interface LoadResult {
  requests: number
  rps: number
  p50: number
  p99: number
  /** Answers other than 2xx, and connection errors and timeouts. */
  errors: number
  non2xx: number
  statuses: Record<string, number>
}

const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as LoadSpec
process.stdout.write(`${JSON.stringify(spec.tool === 'wrk' ? runWrk() : await runAutocannon())}\n`)

/** wrk, one thread (one core), with a Lua script that rotates the tokens or bodies and counts the answers. */
function runWrk (): LoadResult {
  const list = spec.bearer ?? spec.bodies ?? ['']
  const listFile = `${process.argv[2]}.list`
  writeFileSync(listFile, `${list.join('\n')}\n`)
  const headers = spec.bearer !== undefined ? '{["Authorization"] = "Bearer " .. item}' : spec.bodies !== undefined ? '{["Content-Type"] = "application/json"}' : '{}'
  const body = spec.bodies !== undefined ? 'item' : 'nil'
  const script = `${process.argv[2]}.lua`
  writeFileSync(script, `
local list, i, threads, single = {}, 0, {}, nil
statuses = {}
for line in io.lines(${JSON.stringify(listFile)}) do list[#list + 1] = line end
local function build (item) return wrk.format(${JSON.stringify(spec.method)}, ${JSON.stringify(spec.path)}, ${headers}, ${body}) end
-- Built in init, once wrk has set the Host header.
function init () if #list == 1 then single = build(list[1]) end end
function setup (thread) table.insert(threads, thread) end
function request ()
  if single then return single end
  i = i + 1
  return build(list[(i - 1) % #list + 1])
end
function response (status) statuses[status] = (statuses[status] or 0) + 1 end
function done (summary, latency)
  local counts = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do counts[status] = (counts[status] or 0) + n end
  end
  local parts = {}
  for status, n in pairs(counts) do parts[#parts + 1] = string.format('"%d":%d', status, n) end
  local e = summary.errors
  io.write(string.format('\\nRESULT {"requests":%d,"us":%d,"p50":%.3f,"p99":%.3f,"socket":%d,"statuses":{%s}}\\n',
    summary.requests, summary.duration, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout, table.concat(parts, ",")))
end
`)
  const out = execFileSync('wrk', ['-t1', `-c${spec.connections}`, `-d${spec.seconds}s`, '--timeout', '10s', '-s', script, spec.url], { encoding: 'utf8' })
  const line = out.split('\n').find(l => l.startsWith('RESULT '))!
  const raw = JSON.parse(line.slice(7)) as { requests: number, us: number, p50: number, p99: number, socket: number, statuses: Record<string, number> }
  const statuses: Record<string, number> = {}
  let non2xx = 0
  for (const [status, n] of Object.entries(raw.statuses)) {
    const family = `${status[0]}xx`
    statuses[family] = (statuses[family] ?? 0) + n
    if (family !== '2xx') non2xx += n
  }
  return { requests: raw.requests, rps: raw.requests / (raw.us / 1e6), p50: raw.p50, p99: raw.p99, errors: non2xx + raw.socket, non2xx, statuses }
}

async function runAutocannon (): Promise<LoadResult> {
  let next = 0
  const rotate = (list: string[]) => list[next++ % list.length]!
  const headers: Record<string, string> = spec.bodies === undefined ? {} : { 'content-type': 'application/json' }

  const result = await autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: spec.seconds,
    requests: [{
      method: spec.method,
      path: spec.path,
      setupRequest: request => ({
        ...request,
        headers: { ...headers, ...(spec.bearer === undefined ? {} : { authorization: `Bearer ${rotate(spec.bearer)}` }) },
        ...(spec.bodies === undefined ? {} : { body: rotate(spec.bodies) })
      })
    }]
  })
  const statuses: Record<string, number> = {}
  for (const code of ['1xx', '2xx', '3xx', '4xx', '5xx'] as const) {
    const count = (result as unknown as Record<string, number>)[code]
    if (count) statuses[code] = count
  }
  return {
    requests: result.requests.total,
    rps: result.requests.total / spec.seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.non2xx + result.errors + result.timeouts,
    non2xx: result.non2xx,
    statuses
  }
}
