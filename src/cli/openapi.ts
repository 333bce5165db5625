import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildApp } from '../app.js'
import { configWith } from '../config.js'
import { MEMORY_DATA_DIR } from '../db/index.js'
import { projectRoot } from '../paths.js'
import { CommandFailed, parseOptions, type CommandIo } from './io.js'

export const OPENAPI_PATH = join(projectRoot, 'openapi', 'openapi.json')

/** The OpenAPI document the routes generate, as it is committed. */
export async function generateOpenApi (): Promise<string> {
  // Any key will do: the document does not depend on it.
  const app = await buildApp(configWith({ dataDir: MEMORY_DATA_DIR, jwtSigningKey: 'x'.repeat(32), logLevel: 'silent' }), { logger: false })
  try {
    return JSON.stringify(app.swagger(), null, 2) + '\n'
  } finally {
    await app.close()
  }
}

// `npm run openapi`: writes openapi/openapi.json (or --out FILE).
export async function writeOpenApi (argv: string[], io: CommandIo): Promise<void> {
  const { out = OPENAPI_PATH, ...rest } = parseOptions(argv)
  if (typeof out !== 'string' || Object.keys(rest).length > 0) throw new CommandFailed('usage: openapi [--out FILE]')
  writeFileSync(out, await generateOpenApi())
  io.stdout.write(`Wrote ${out}\n`)
}
