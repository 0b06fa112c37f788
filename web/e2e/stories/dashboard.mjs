// The leader's dashboard and the command center's big screen: the figures change after a handler resolves a
// case and the completion drill-down lists it; the big screen shows a newly registered case by itself within
// its refresh interval (no reload); neither scrolls sideways at 1366 px.

import { check, log, session, screen } from '../lib.mjs'

/** Calls the API from a signed-in page (its cookies, its CSRF token). */
async function call(page, method, path, body, headers = {}) {
  return page.evaluate(
    async ({ method, path, body, headers }) => {
      const csrf = decodeURIComponent((document.cookie.match(/(?:^|;\s*)fq_csrf=([^;]+)/) ?? [])[1] ?? '')
      const r = await fetch(path, {
        method,
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf, ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
      return { status: r.status, body: await r.json().catch(() => null) }
    },
    { method, path, body, headers },
  )
}

async function completion(page) {
  const sub = page.locator('[data-testid=dash-cards] [data-figure=completion] [data-testid=figure-sub]')
  await sub.waitFor({ timeout: 20000 })
  await page.waitForFunction(() => /\d+ \/ \d+/.test(document.querySelector('[data-figure=completion] [data-testid=figure-sub]')?.textContent ?? ''), null, { timeout: 20000 })
  const [n, d] = (await sub.textContent()).split('/').map((x) => Number(x.trim()))
  return { n, d }
}

export default async function dashboardStory(browser, base) {
  const leader = await session(browser, base, 'leader')
  const handler = await session(browser, base, 'handler')
  const clerk = await session(browser, base, 'clerk')
  try {
    const page = leader.page
    await page.goto(`${base}/dashboard`)
    const before = await completion(page)
    check('the dashboard shows the completion rate with its counts', before.d > 0, JSON.stringify(before))
    await page.waitForSelector('[data-testid=dash-ranking] .el-table__row', { timeout: 20000 })
    check('the ranking lists the towns and villages', (await page.locator('[data-testid=dash-ranking] .el-table__row').count()) > 0)
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=dashboard-map]')?.getAttribute('data-points') ?? 0) > 0, null, { timeout: 20000 }).catch(() => undefined)
    const points = Number(await page.locator('[data-testid=dashboard-map]').getAttribute('data-points'))
    check('the map places the cases as points', points > 0, `data-points=${points}`)
    await screen(page, '20-dashboard')

    // The handler resolves a case in progress.
    await handler.page.goto(`${base}/inbox`)
    const list = await call(handler.page, 'GET', '/api/v1/cases?status=in_progress&per_page=50')
    const target = list.body?.items?.[0]
    check('the handler has a case in progress to resolve', !!target, JSON.stringify(list.body).slice(0, 200))
    const resolved = await call(handler.page, 'POST', `/api/v1/cases/${target.id}/actions?expected_version=${target.version}`, {
      action: 'resolve',
      result: '已调取监控并立案侦查，车辆已找回归还失主。',
    })
    check('the handler resolves it', resolved.status === 200, JSON.stringify(resolved.body).slice(0, 300))

    await page.click('[data-testid=dash-refresh]')
    await page.waitForFunction(
      (n) => Number((document.querySelector('[data-figure=completion] [data-testid=figure-sub]')?.textContent ?? '').split('/')[0]) === n,
      before.n + 1,
      { timeout: 20000 },
    ).catch(() => undefined)
    const after = await completion(page)
    check('the completion figure counts the newly resolved case', after.n === before.n + 1 && after.d === before.d, `${JSON.stringify(before)} → ${JSON.stringify(after)}`)

    // Its drill-down lists it.
    await page.click('[data-testid=dash-cards] [data-figure=completion]')
    await page.waitForSelector('.el-dialog:visible [data-testid=drill-table] .el-table__row', { timeout: 20000 })
    let found = false
    for (let i = 0; i < 10 && !found; i++) {
      found = (await page.locator('.el-dialog:visible [data-testid=drill-table] .el-table__row', { hasText: target.number }).count()) > 0
      if (!found) {
        const next = page.locator('.el-dialog:visible .el-pagination .btn-next:not([disabled])')
        if (!(await next.count())) break
        await next.click()
        await page.waitForTimeout(500)
      }
    }
    check('the completion drill-down lists the resolved case', found, target.number)
    const total = Number(((await page.locator('.el-dialog:visible [data-testid=drill-total]').textContent()) ?? '').replace(/\D+/g, ''))
    check('the drill-down counts exactly the figure\'s numerator', total === after.n, `${total} vs ${after.n}`)
    await screen(page, '21-dashboard-drill')
    await page.keyboard.press('Escape')

    // The big screen refreshes by itself: a case registered after it opened appears without a reload.
    const wall = leader.page
    await wall.goto(`${base}/big-screen?refresh=5`)
    await wall.waitForSelector('[data-testid=big-latest] li[data-number]', { timeout: 20000 })
    await wall.evaluate(() => (window.__stillHere = true))
    await clerk.page.goto(`${base}/intake`)
    const reg = await call(
      clerk.page,
      'POST',
      '/api/v1/cases',
      {
        kind: 'request',
        channel: 'walk_in',
        category: 'public_security.theft',
        title: '大屏测试：楼道电瓶车被盗',
        description: '今晨发现楼道里充电的电瓶车被盗，请求派出所查看监控。',
        address: '太平镇鲍店社区',
      },
      { 'Idempotency-Key': `e2e-big-screen-${Date.now()}` },
    )
    check('the clerk registers a new case', reg.status === 201, JSON.stringify(reg.body).slice(0, 300))
    const number = reg.body?.case?.number
    const shown = await wall
      .waitForSelector(`[data-testid=big-latest] li[data-number="${number}"]`, { timeout: 12000 })
      .then(() => true)
      .catch(() => false)
    const same = await wall.evaluate(() => window.__stillHere === true)
    check('the big screen shows the new case by itself within its refresh interval', shown && same, `${number} shown=${shown} noReload=${same}`)
    await screen(wall, '22-big-screen')
  } finally {
    for (const s of [leader, handler, clerk]) await s.context.close()
    log('# dashboard story done')
  }
}
