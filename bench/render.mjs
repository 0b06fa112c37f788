// Render timing in Debian's headless Chromium (playwright-core from web/node_modules) against a running
// Fengqiao, and the size of the shipped JavaScript, gzipped. Called by the cases section of the runner
// (src/render.rs) after it has seeded the database; prints one JSON line.
//
//   node bench/render.mjs BASE_URL
//   env FQ_RENDER_DASHBOARD_USER / _PASSWORD (a leader), FQ_RENDER_QUEUE_USER / _PASSWORD (a dispatcher),
//       FQ_RENDER_RUNS (default 5), CHROMIUM (default /usr/bin/chromium)
//
// Each measure is the wall time from navigation start until the page shows its data: the dashboard when every
// one of its requests has answered, its figure cards hold numbers, its ranking has rows and its trend chart is
// drawn; the queue page when its table
// holds 50 rows (or all there are). The first run starts with an empty browser cache; the others reload.

import { createRequire } from 'node:module'
import { readdirSync, readFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const web = resolve(here, '../web')
const require = createRequire(join(web, 'package.json'))
const { chromium } = require('playwright-core')

const base = process.argv[2]
if (!base) {
  console.error('usage: node bench/render.mjs BASE_URL')
  process.exit(2)
}
const runs = Math.max(2, Number(process.env.FQ_RENDER_RUNS) || 5)
const QUEUE = '/cases?status=dispatched,in_progress&sort=deadline&per_page=50'

function gz(path) {
  return gzipSync(readFileSync(path), { level: 9 }).length
}

function shippedJs() {
  const dir = join(web, 'dist/assets')
  let total = 0
  let raw = 0
  const sizes = new Map()
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.js'))) {
    const g = gz(join(dir, name))
    sizes.set(name, g)
    total += g
    raw += readFileSync(join(dir, name)).length
  }
  return { total, raw, sizes }
}

async function signIn(context, username, password) {
  const r = await context.request.post(`${base}/api/v1/auth/login`, { data: { username, password } })
  if (!r.ok()) throw new Error(`login of ${username}: ${r.status()} ${await r.text()}`)
}

async function time(page, url, ready) {
  const started = Date.now()
  // The list's answer says how many rows the page will show.
  const listed = page
    .waitForResponse((r) => r.url().includes('/api/v1/cases?') && r.request().method() === 'GET', { timeout: 60000 })
    .then((r) => r.json())
    .catch(() => null)
  await page.goto(url, { waitUntil: 'commit' })
  await ready(page, listed)
  return Date.now() - started
}

const dashboardReady = async (page) => {
  await page.waitForFunction(
    () => {
      if (document.querySelector('[data-testid=dashboard]')?.getAttribute('data-loaded') !== 'true') return false
      const subs = [...document.querySelectorAll('[data-testid=dash-cards] [data-testid=figure-sub]')]
      const ranking = document.querySelectorAll('[data-testid=dash-ranking] .el-table__row').length
      const chart = document.querySelector('[data-testid=dash-trend] canvas')
      return subs.length >= 5 && subs.every((s) => /\d/.test(s.textContent ?? '')) && ranking > 0 && !!chart
    },
    null,
    { timeout: 60000, polling: 'raf' },
  )
}

const queueReady = async (page, listed) => {
  const body = await listed
  const expected = Math.max(1, Math.min(50, body?.items?.length ?? 50))
  await page.waitForFunction(
    (n) => document.querySelectorAll('[data-testid=case-table] .el-table__body-wrapper .el-table__row').length >= n,
    expected,
    { timeout: 60000, polling: 'raf' },
  )
}

function summary(samples) {
  const warm = samples.slice(1).sort((a, b) => a - b)
  return { cold_ms: samples[0], warm_median_ms: warm[Math.floor(warm.length / 2)], warm_max_ms: warm[warm.length - 1], runs: samples.length }
}

async function measure(browser, user, password, url, ready, jsLoaded) {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' })
  await signIn(context, user, password)
  const page = await context.newPage()
  if (jsLoaded) page.on('response', (r) => r.url().endsWith('.js') && jsLoaded.add(r.url().split('/').pop()))
  const samples = []
  for (let i = 0; i < runs; i++) samples.push(await time(page, `${base}${url}`, ready))
  await context.close()
  return summary(samples)
}

const js = shippedJs()
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
})
try {
  const dashboardJs = new Set()
  const queueJs = new Set()
  const dashboard = await measure(browser, process.env.FQ_RENDER_DASHBOARD_USER, process.env.FQ_RENDER_DASHBOARD_PASSWORD, '/dashboard', dashboardReady, dashboardJs)
  const queue = await measure(browser, process.env.FQ_RENDER_QUEUE_USER, process.env.FQ_RENDER_QUEUE_PASSWORD, QUEUE, queueReady, queueJs)
  const loaded = (set) => [...set].reduce((s, n) => s + (js.sizes.get(n) ?? 0), 0)
  console.log(
    JSON.stringify({
      dashboard,
      queue,
      js_gzip_total: js.total,
      js_raw_total: js.raw,
      js_gzip_dashboard: loaded(dashboardJs),
      js_gzip_queue: loaded(queueJs),
    }),
  )
} finally {
  await browser.close()
}
