// Shared helpers of the end-to-end stories (web/e2e/stories/*.mjs): the check counter, signing in, screenshots
// with the sideways-scroll check, and small form helpers. See run.mjs.

import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
export const shots = join(here, 'screenshots')
export const PASSWORD = 'Fengqiao@2026'

export const counts = { passed: 0, failed: 0 }
export const log = (...a) => console.log(...a)

export function check(name, ok, detail = '') {
  if (ok) {
    counts.passed++
    log(`ok - ${name}`)
  } else {
    counts.failed++
    log(`not ok - ${name}${detail ? `: ${detail}` : ''}`)
  }
  return ok
}

/** A phone-sized browser context (375×812, touch), not signed in. */
export async function phone(browser) {
  const context = await browser.newContext({
    viewport: { width: 375, height: 812 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    timezoneId: 'Asia/Shanghai',
    locale: 'zh-CN',
  })
  const page = await context.newPage()
  page.on('pageerror', (e) => log(`# page error (phone): ${e.message}`))
  return { context, page }
}

/** A signed-in browser session for one user (its own cookies). */
export async function session(browser, base, username, password = PASSWORD) {
  // The browser's own zone is not Shanghai: dates must still show in Asia/Shanghai.
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, timezoneId: 'Europe/London', locale: 'zh-CN' })
  const page = await context.newPage()
  page.on('pageerror', (e) => log(`# page error (${username}): ${e.message}`))
  await page.goto(`${base}/login`)
  await page.fill('input[name=username]', username)
  await page.fill('input[name=password]', password)
  await page.click('[data-testid=login-submit]')
  await page.waitForURL((u) => !u.pathname.startsWith('/login'), { timeout: 15000 })
  await page.waitForSelector('[data-testid=who]')
  return { context, page }
}

export async function noSidewaysScroll(page, screen) {
  await page.waitForTimeout(300)
  const [scrollWidth, clientWidth] = await page.evaluate(() => [document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth])
  const size = page.viewportSize()
  const at = size ? `${size.width}×${size.height}` : 'this size'
  check(`${screen}: no sideways scrolling at ${at}`, scrollWidth <= clientWidth, `scrollWidth ${scrollWidth} > clientWidth ${clientWidth}`)
}

export async function screen(page, name) {
  await page.waitForLoadState('networkidle').catch(() => undefined)
  await page.waitForTimeout(250)
  await page.screenshot({ path: join(shots, `${name}.png`) })
  await noSidewaysScroll(page, name)
}

export async function pickOption(page, selectLocator, text) {
  await selectLocator.click()
  const option = page.locator('.el-select-dropdown__item:visible', { hasText: text }).first()
  await option.waitFor({ timeout: 10000 })
  await option.click()
}

export async function act(page, action, fill = {}) {
  await page.click(`[data-testid=case-actions] [data-action=${action}]`)
  const form = page.locator('.el-dialog:visible [data-testid=action-form]')
  await form.waitFor()
  for (const [field, value] of Object.entries(fill)) {
    if (field === 'lead' || field === 'leader_user_id') await pickOption(page, form.locator(`[data-field=${field}]`), value)
    else await form.locator(`[data-field=${field}]`).fill(value)
  }
  await page.click('.el-dialog:visible [data-testid=action-submit]')
  await form.waitFor({ state: 'hidden', timeout: 15000 })
}

export async function statusOf(page) {
  await page.waitForTimeout(300)
  return page.locator('[data-testid=case-status]').getAttribute('data-status')
}

export async function waitStatus(page, status) {
  await page.waitForSelector(`[data-testid=case-status][data-status=${status}]`, { timeout: 15000 }).catch(() => undefined)
  return statusOf(page)
}

export function shanghai(iso) {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
      .formatToParts(new Date(iso)).map((x) => [x.type, x.value]),
  )
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`
}

