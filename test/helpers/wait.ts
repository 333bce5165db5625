/** Polls `check` every `everyMs` until it holds; throws after `limitMs`, naming what never happened. */
export async function until (check: () => Promise<boolean> | boolean, what: string, { limitMs = 30_000, everyMs = 50 } = {}): Promise<void> {
  const giveUpAt = Date.now() + limitMs
  while (!await check()) {
    if (Date.now() > giveUpAt) throw new Error(`never happened: ${what}`)
    await new Promise(resolve => setTimeout(resolve, everyMs))
  }
}
