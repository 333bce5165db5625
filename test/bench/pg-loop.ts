import { randomUUID } from 'node:crypto'
import postgres from 'postgres'

// The refresh baseline: what postgres.js does bare, `concurrency` loops of
// one transaction each (UPDATE a row, INSERT its successor) on a pool of
// `pool` connections, for `seconds`. Prints one JSON line.
const [url, concurrency, pool, seconds] = [process.argv[2]!, ...process.argv.slice(3, 6).map(Number)] as [string, number, number, number]
const sql = postgres(url, { max: pool, onnotice: () => {} })
await sql`create table if not exists bench_rotation (jti varchar(255) primary key, used_at timestamptz, replaced_by varchar(255), expires_at timestamptz not null)`
const newJti = () => randomUUID().replaceAll('-', '')
const heads = Array.from({ length: concurrency }, newJti)
await sql`insert into bench_rotation ${sql(heads.map(jti => ({ jti, expires_at: new Date(Date.now() + 86_400_000) })))}`

const latencies: number[] = []
let done = 0
const deadline = Date.now() + seconds * 1000
await Promise.all(heads.map(async first => {
  let jti = first
  while (Date.now() < deadline) {
    const started = performance.now()
    const next = newJti()
    await sql.begin(async tx => {
      await tx`update bench_rotation set used_at = now(), replaced_by = ${next} where jti = ${jti}`
      await tx`insert into bench_rotation (jti, expires_at) values (${next}, now() + interval '1 day')`
    })
    jti = next
    latencies.push(performance.now() - started)
    done++
  }
}))
await sql`drop table bench_rotation`
await sql.end()
latencies.sort((a, b) => a - b)
const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] ?? 0
process.stdout.write(`${JSON.stringify({ perSecond: done / seconds, p50: at(0.5), p99: at(0.99) })}\n`)
