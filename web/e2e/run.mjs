// End-to-end tests: Debian's headless Chromium (driven by playwright-core) against the real `fengqiao` binary
// serving the built front end on a fresh SQLite data directory with the demo loaded.
//
// The stories live in e2e/stories/ and run in the order of STORIES against one server; each signs in its own
// users and checks its screens at its own viewport (phone views at 375 px, desktop at 1366 px) for sideways
// scrolling. Screenshots go to e2e/screenshots/ (git-ignored). Ends with the line "e2e: N passed, M failed".
// `node e2e/run.mjs dashboard citizen` runs only the named stories.
//
// Environment: FENGQIAO_BIN (default: $CARGO_TARGET_DIR or ../target, then debug/fengqiao),
// CHROMIUM (default /usr/bin/chromium).

import { spawn } from 'node:child_process'
import { mkdtempSync, mkdirSync, rmSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import { check, counts, log, shots } from './lib.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const repo = resolve(here, '../..')
const targetDir = process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(repo, 'target')
const binary = process.env.FENGQIAO_BIN ?? join(targetDir, 'debug/fengqiao')
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium'

/** The stories, in the order they run (file names in e2e/stories/ without `.mjs`). */
const STORIES = ['staff', 'dashboard', 'mediation', 'petition', 'citizen', 'grid']

async function startServer() {
  if (!existsSync(binary)) throw new Error(`no fengqiao binary at ${binary}: build it first (cargo build -p fengqiao)`)
  const dataDir = mkdtempSync(join(tmpdir(), 'fq-e2e-'))
  const child = spawn(binary, ['--data-dir', dataDir, 'demo', '--listen', '127.0.0.1:0'], {
    env: { ...process.env, FENGQIAO_LOG: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let output = ''
  const url = await new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start in 120 s:\n${output}`)), 120000)
    child.stderr.on('data', (chunk) => {
      output += chunk
      // Only a whole line: stderr may arrive cut in the middle of the address.
      const m = /listening on (http:\/\/[\d.:]+)\r?\n/.exec(output)
      if (m) {
        clearTimeout(timer)
        resolveUrl(m[1])
      }
    })
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`the server exited (${code}):\n${output}`))
    })
  })
  return { url, child, dataDir }
}

async function main() {
  rmSync(shots, { recursive: true, force: true })
  mkdirSync(shots, { recursive: true })
  const server = await startServer()
  log(`# fengqiao at ${server.url}`)
  // launch() starts Chromium with a fresh temporary --user-data-dir of its own; headless is set by playwright.
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  })
  const only = process.argv.slice(2)
  try {
    for (const name of STORIES.filter((s) => !only.length || only.includes(s))) {
      log(`# story: ${name}`)
      const story = (await import(`./stories/${name}.mjs`)).default
      try {
        await story(browser, server.url)
      } catch (e) {
        check(`the ${name} story runs to its end`, false, e?.stack ?? String(e))
      }
    }
  } finally {
    await browser.close()
    // Wait for the server to finish shutting down (it writes its last files) before removing its data.
    const exited = new Promise((resolveExit) => {
      if (server.child.exitCode !== null || server.child.signalCode !== null) resolveExit()
      else server.child.once('exit', resolveExit)
    })
    server.child.kill('SIGTERM')
    await exited
    rmSync(server.dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 })
  }
}

const started = Date.now()
main()
  .catch((e) => check('the end-to-end run', false, e?.stack ?? String(e)))
  .finally(() => {
    log(`# ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in ${shots}`)
    log(`e2e: ${counts.passed} passed, ${counts.failed} failed`)
    process.exit(counts.failed ? 1 : 0)
  })
