import { readFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'

// Where a V8 CPU profile (node --cpu-prof, `npm run bench -- --profile`)
// spends its time: self time by package and by function, as percentages of
// the busy (not idle) time, as Markdown. Also on its own:
//   node dist/test/bench/profile-summary.js file.cpuprofile [rows]

interface CallFrame { functionName: string, url: string, lineNumber: number }
interface ProfileNode { id: number, callFrame: CallFrame }
interface CpuProfile { nodes: ProfileNode[], samples: number[], timeDeltas: number[] }

/** node_modules/<package> (scoped too), node:<module>, a file of our own, or V8's own entries ("(garbage collector)", "writev"). */
function packageOf ({ url, functionName }: CallFrame): string {
  if (url === '') return functionName
  const modules = url.lastIndexOf('node_modules/')
  if (modules !== -1) {
    const parts = url.slice(modules + 'node_modules/'.length).split('/')
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!
  }
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`
  return url.split('/').slice(-2).join('/')
}

const functionOf = (frame: CallFrame) =>
  `${frame.functionName === '' ? '(anonymous)' : frame.functionName} ${frame.url === '' ? '' : `${frame.url.split('/').slice(-2).join('/')}:${frame.lineNumber + 1}`}`.trim()

export function summarise (profile: CpuProfile, rows = 25): string {
  const frames = new Map(profile.nodes.map(node => [node.id, node.callFrame]))
  const byPackage = new Map<string, number>()
  const byFunction = new Map<string, number>()
  let busy = 0
  let idle = 0
  for (let at = 0; at < profile.samples.length; at++) {
    const frame = frames.get(profile.samples[at]!)!
    const micros = profile.timeDeltas[at] ?? 0
    if (frame.functionName === '(idle)') {
      idle += micros
      continue
    }
    busy += micros
    const pkg = packageOf(frame)
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + micros)
    const fn = functionOf(frame)
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + micros)
  }
  const table = (title: string, entries: Map<string, number>) => [
    `| ${title} | % of busy time |`,
    '|---|---:|',
    ...[...entries].sort((a, b) => b[1] - a[1]).slice(0, rows).map(([name, micros]) => `| \`${name.replaceAll('|', '\\|')}\` | ${(100 * micros / busy).toFixed(1)} |`)
  ].join('\n')
  return [
    `Busy ${(busy / 1000).toFixed(0)} ms, idle ${(idle / 1000).toFixed(0)} ms. Self time only: a function's callees are counted where they run.`,
    '',
    table('package', byPackage),
    '',
    table('function', byFunction),
    ''
  ].join('\n')
}

/* c8 ignore start: the command line of the bench tool (test/ is not measured for coverage anyway) */
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [file, rows] = process.argv.slice(2)
  if (file === undefined) throw new Error('usage: profile-summary.js file.cpuprofile [rows]')
  process.stdout.write(summarise(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, rows === undefined ? 25 : Number(rows)))
}
/* c8 ignore stop */
