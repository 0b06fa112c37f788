// The staff story: the intake clerk registers a walk-in dispute with a map location → the dispatcher dispatches
// it from the console → the handler claims it and returns it once → the dispatcher re-dispatches → the handler
// claims and resolves it → the center reviews it → the follow-up desk records satisfaction → a user of another
// town (created on the users screen) signs in and cannot find or open it by list, search or URL.

import QRCode from 'qrcode'
import { PASSWORD, check, log, session, screen, pickOption, act, statusOf, waitStatus, shanghai, noSidewaysScroll } from '../lib.mjs'

const OTHER_TOWN = '140929100' // 岚漪镇, 岢岚县: not the demo town 370883107
const OTHER_USER = 'dispatcher_lanyi'
const OTHER_PASSWORD = 'Lanyi-Town-2026!'

export default async function staffStory(browser, base) {
  // Sign-in page
  {
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 } })
    const page = await context.newPage()
    await page.goto(`${base}/login`)
    await page.waitForSelector('[data-testid=login-submit]')
    await screen(page, '01-login')
    await page.fill('input[name=username]', 'clerk')
    await page.fill('input[name=password]', 'wrong-password')
    await page.click('[data-testid=login-submit]')
    await page.waitForSelector('[data-testid=login-error]')
    check('a wrong password is refused with a message', (await page.textContent('[data-testid=login-error]')).trim().length > 0)
    await context.close()
  }

  // The intake clerk registers a walk-in dispute with a map location.
  const clerk = await session(browser, base, 'clerk')
  let caseId
  let number
  {
    const { page } = clerk
    check('the clerk lands on the intake desk', new URL(page.url()).pathname === '/intake', page.url())
    const who = await page.textContent('[data-testid=who]')
    check('the shell shows name, role and scope', who.includes('张受理') && who.includes('受理员') && who.includes('region:370883107'), who)
    const nav = await page.locator('[data-testid=nav] [data-nav]').evaluateAll((els) => els.map((e) => e.getAttribute('data-nav')))
    check('the clerk is offered the intake desk, the case list and petition registration', JSON.stringify(nav) === '["intake","cases","petitions","receptions"]', JSON.stringify(nav))
    await page.fill('[data-testid=title]', '楼上装修噪音纠纷')
    await page.fill('[data-testid=description]', '楼上邻居夜间装修噪音扰民，多次协商未果，双方发生争执。')
    await page.locator('[data-testid=description]').blur()
    await page.fill('[data-testid=party-name-0]', '孟庆华')
    await page.fill('[data-testid=party-phone-0]', '13905371234')
    await page.fill('[data-testid=address]', '太平镇鲍店社区3号楼')
    // Click inside a grid on the map: the grid resolves live.
    // (The mouse goes to the middle of a grid's outline; whichever grid lies on top there takes the click.)
    const box = await page.locator('[data-testid=map] path.leaflet-interactive').first().boundingBox()
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2)
    await page.waitForSelector('[data-testid=resolved-grid]', { timeout: 15000 })
    const grid = (await page.textContent('[data-testid=resolved-grid]')).trim()
    const place = await page.textContent('[data-testid=location-result]')
    check('clicking the map resolves the grid and its region', grid.length > 0 && place.includes('太平镇'), place)
    await page.locator('[data-suggest="dispute.neighbour"]').click({ timeout: 10000 })
    // An attachment dropped on the form (a PNG made here) goes up once the case exists.
    const png = await QRCode.toBuffer('枫桥 end-to-end photo')
    await page.setInputFiles('[data-testid=attachments] input[type=file]', { name: '现场照片.png', mimeType: 'image/png', buffer: png })
    await screen(page, '02-intake')
    await page.click('[data-testid=register-accept]')
    await page.waitForSelector('[data-testid=receipt]', { timeout: 20000 })
    number = (await page.textContent('[data-testid=receipt-number]')).trim()
    caseId = Number(await page.getAttribute('[data-testid=receipt]', 'data-case-id'))
    check('registering prints a receipt with the case number', /^370883107-\d{8}-\d{4}$/.test(number), number)
    const qr = await page.getAttribute('[data-testid=receipt-qr]', 'src')
    check('the receipt carries a QR code', qr?.startsWith('data:image/png;base64,'))
    const created = await page.evaluate(async (id) => (await (await fetch(`/api/v1/cases/${id}`)).json()).created_at, caseId)
    const receiptText = await page.textContent('[data-testid=receipt]')
    check('dates show in Asia/Shanghai whatever the browser zone', receiptText.includes(shanghai(created)), `${receiptText} / ${shanghai(created)}`)
    await screen(page, '03-receipt')
    // What the QR code opens: progress by number and tracking code, without signing in.
    const secret = (await page.textContent('[data-testid=receipt-secret]')).trim()
    {
      const anon = await browser.newContext({ viewport: { width: 1366, height: 768 } })
      const p = await anon.newPage()
      await p.goto(`${base}/track?number=${encodeURIComponent(number)}&secret=${encodeURIComponent(secret)}`)
      await p.waitForSelector('[data-testid=track-result]', { timeout: 15000 })
      check('the receipt’s QR link shows progress without signing in', (await p.textContent('[data-testid=track-result]')).includes('楼上装修噪音纠纷'))
      await anon.close()
    }
    await page.click('[data-testid=next-case]')
    // English on request, zh-CN again after.
    await pickOption(page, page.locator('[data-testid=locale]'), 'English')
    await page.waitForSelector('[data-testid=nav] :text("Intake desk")', { timeout: 5000 })
    check('the interface switches to English', (await page.textContent('[data-testid=nav]')).includes('Intake desk'))
    await screen(page, '03-intake-english')
    await pickOption(page, page.locator('[data-testid=locale]'), '中文')
    await page.waitForSelector('[data-testid=nav] :text("受理台")', { timeout: 5000 })
    // Reject-with-notice: the reason and every missing document, printed on the receipt once and for all.
    await page.fill('[data-testid=title]', '申请开具无犯罪记录证明')
    await page.fill('[data-testid=description]', '群众来窗口申请开具证明，材料不全。')
    await page.fill('[data-testid=address]', '太平镇便民服务中心')
    await page.click('[data-testid=reject]')
    await page.fill('[data-testid=reject-reason]', '材料不全，暂不受理')
    await page.fill('[data-testid=reject-missing]', '身份证复印件\n户口本首页复印件')
    await page.click('[data-testid=reject-confirm]')
    await page.waitForSelector('[data-testid=receipt-notice]', { timeout: 20000 })
    const items = await page.locator('[data-testid=receipt-notice] li').allTextContents()
    const rejectedId = Number(await page.getAttribute('[data-testid=receipt]', 'data-case-id'))
    const rejected = await page.evaluate(async (id) => (await (await fetch(`/api/v1/cases/${id}`)).json()).status, rejectedId)
    check('reject-with-notice lists every missing document on the receipt', JSON.stringify(items) === '["身份证复印件","户口本首页复印件"]' && rejected === 'rejected', `${JSON.stringify(items)} ${rejected}`)
    await page.click('[data-testid=next-case]')
    // The case page as the clerk sees it: placed in a grid, accepted.
    await page.goto(`${base}/cases/${caseId}`)
    check('the clerk registered and accepted it', (await waitStatus(page, 'accepted')) === 'accepted')
  }

  // The dispatcher dispatches it from the console.
  const dispatcher = await session(browser, base, 'dispatcher')
  {
    const { page } = dispatcher
    check('the dispatcher lands on the console', new URL(page.url()).pathname === '/console', page.url())
    await page.locator('[data-testid=queue-tabs] .el-tabs__item', { hasText: '待分派' }).click()
    await page.waitForURL(/queue=awaiting_dispatch/)
    const row = page.locator('[data-testid=case-table] tr', { has: page.locator(`[data-case-number="${number}"]`) })
    await row.waitFor({ timeout: 15000 })
    check('the filter is kept in the URL', page.url().includes('queue=awaiting_dispatch'))
    await row.locator('td').nth(2).click()
    await page.waitForSelector('[data-testid=console-proposal]', { timeout: 10000 })
    const proposal = await page.textContent('[data-testid=console-proposal]')
    check('the console shows the routing proposal', proposal.includes('分派建议'), proposal)
    await screen(page, '04-console')
    // Keyboard: J moves the selection (the side panel follows).
    const before = await page.textContent('[data-testid=console-side] .el-card__header')
    await page.keyboard.press('j')
    const after = await page.textContent('[data-testid=console-side] .el-card__header')
    const rows = await page.locator('[data-testid=case-table] .el-table__body tr').count()
    check('J moves to the next case', rows < 2 || before !== after, `${before} → ${after}`)
    await page.keyboard.press('k')
    await page.click('[data-testid=console-side] [data-action=dispatch]')
    const form = page.locator('.el-dialog:visible [data-testid=action-form]')
    await form.waitFor()
    await pickOption(page, form.locator('[data-field=lead]'), '太平镇派出所')
    await page.click('.el-dialog:visible [data-testid=action-submit]')
    await form.waitFor({ state: 'hidden', timeout: 15000 })
    await page.goto(`${base}/cases/${caseId}`)
    check('the dispatcher dispatched it to the police station', (await waitStatus(page, 'dispatched')) === 'dispatched')
  }

  // The handler claims it, then returns it once.
  const handler = await session(browser, base, 'handler')
  {
    const { page } = handler
    check('the handler lands on the inbox', new URL(page.url()).pathname === '/inbox', page.url())
    await page.waitForSelector(`[data-claim="${number}"]`, { timeout: 15000 })
    await screen(page, '05-inbox')
    await page.click(`[data-claim="${number}"]`)
    await page.waitForSelector(`[data-claim="${number}"]`, { state: 'detached', timeout: 15000 })
    await page.goto(`${base}/cases/${caseId}`)
    check('the handler claimed it', (await waitStatus(page, 'in_progress')) === 'in_progress')
    await act(page, 'return', { reason: '属民间邻里纠纷，应由司法所调解' })
    check('the handler returned it with a reason', (await waitStatus(page, 'returned')) === 'returned')
  }

  // The dispatcher re-dispatches it.
  {
    const { page } = dispatcher
    await page.goto(`${base}/cases/${caseId}`)
    await page.waitForSelector('[data-testid=case-actions] [data-action=rule_on_return_redispatch]')
    await act(page, 'rule_on_return_redispatch', { lead: '太平镇派出所', note: '请派出所先行处置' })
    check('the dispatcher re-dispatched it', (await waitStatus(page, 'dispatched')) === 'dispatched')
  }

  // The handler claims and resolves it.
  {
    const { page } = handler
    await page.goto(`${base}/cases/${caseId}`)
    await page.waitForSelector('[data-testid=case-actions] [data-action=claim]')
    await act(page, 'claim')
    check('the handler claimed it again', (await waitStatus(page, 'in_progress')) === 'in_progress')
    await act(page, 'request_extension', { reason: '需等待物业提供施工时间记录' })
    await page.waitForSelector('text=待审批的延期申请', { timeout: 15000 })
    check('the handler asked for more time', true)
  }

  // The dispatcher grants the extension.
  {
    const { page } = dispatcher
    await page.goto(`${base}/cases/${caseId}`)
    await page.waitForSelector('[data-testid=case-actions] [data-action=approve_extension]')
    await act(page, 'approve_extension', { note: '同意延期三个工作日' })
    await page.waitForSelector('[data-testid=timeline] [data-event=extension_approved]', { timeout: 15000 })
    check('the dispatcher granted the extension', (await page.locator('text=待审批的延期申请').count()) === 0)
    // Leader ownership (领导包案): the town leader picked by name.
    await act(page, 'assign_leader', { leader_user_id: '周镇长' })
    await page.waitForSelector('[data-testid=timeline] [data-event=leader_assigned]', { timeout: 15000 })
    check('the dispatcher names the owning leader from a list of leaders', (await page.locator('[data-testid=timeline] [data-event=leader_assigned]').count()) === 1)
  }

  {
    const { page } = handler
    await page.goto(`${base}/cases/${caseId}`)
    await page.waitForSelector('[data-testid=case-actions] [data-action=resolve]')
    await act(page, 'resolve', { result: '民警上门调解，双方约定晚八点后停止施工' })
    check('the handler resolved it', (await waitStatus(page, 'resolved')) === 'resolved')
    const party = await page.textContent('[data-testid=party]')
    check('the handler sees the party’s phone masked', party.includes('139****1234') && !party.includes('13905371234'), party)
    const files = await page.textContent('[data-testid=attachments-list]')
    check('the attachment dropped at intake is on the case, with a preview', files.includes('现场照片.png') && (await page.locator('[data-testid=attachments-list] img').count()) > 0, files)
    const deadlines = await page.locator('[data-testid=deadlines] [data-level]').count()
    check('the case page shows its deadlines', deadlines > 0)
    await screen(page, '06-case-page')
  }

  // The center reviews it; the follow-up desk records satisfaction.
  {
    const { page } = dispatcher
    await page.goto(`${base}/cases/${caseId}`)
    await page.waitForSelector('[data-testid=case-actions] [data-action=approve_review]')
    await act(page, 'approve_review')
    check('the center approved the resolution', (await waitStatus(page, 'awaiting_follow_up')) === 'awaiting_follow_up')
    await page.goto(`${base}/follow-up`)
    const row = page.locator('[data-testid=case-table] tr', { has: page.locator(`[data-case-number="${number}"]`) })
    await row.waitFor({ timeout: 15000 })
    await row.locator('td').nth(1).click()
    await page.waitForSelector('[data-testid=outcomes]')
    await page.click('[data-testid=outcomes] [data-outcome=satisfied]')
    await screen(page, '07-follow-up')
    await page.click('[data-testid=record-follow-up]')
    await page.waitForSelector('[data-testid=follow-up-panel] :text("已回访")', { timeout: 15000 })
    await page.goto(`${base}/cases/${caseId}`)
    check('the follow-up recorded satisfaction and closed it', (await waitStatus(page, 'closed')) === 'closed')
    await page.waitForSelector('[data-testid=timeline] [data-event]')
    const events = await page.locator('[data-testid=timeline] [data-event]').evaluateAll((els) => els.map((e) => e.textContent.trim()))
    const expected = ['登记', '受理', '派单', '签收', '退回', '退回裁定', '签收', '申请延期', '同意延期', '领导包案', '办结', '审核通过', '回访']
    check('the timeline shows every step in order', JSON.stringify(events) === JSON.stringify(expected), JSON.stringify(events))
    await screen(page, '08-case-closed')
    // The case list with a search, and the XLSX export of the current filter.
    await page.goto(`${base}/cases?q=${encodeURIComponent('噪音')}`)
    await page.waitForSelector(`[data-case-number="${number}"]`, { timeout: 15000 })
    check('full-text search finds it', true)
    const download = page.waitForEvent('download', { timeout: 20000 })
    await page.click('[data-testid=export]')
    const file = await download
    check('the list exports the current filter to XLSX', file.suggestedFilename().endsWith('.xlsx'), file.suggestedFilename())
    await screen(page, '09-cases')
  }

  // Administration screens.
  {
    const admin = await session(browser, base, 'admin')
    const { page } = admin
    for (const [path, name, selector] of [
      ['/admin/regions', '10-admin-regions', '[data-testid=regions-table]'],
      ['/admin/departments', '11-admin-departments', '[data-testid=departments-table]'],
      ['/admin/catalog', '12-admin-catalog', '[data-testid=catalog-table]'],
      ['/admin/calendar', '13-admin-calendar', '[data-testid=calendar-table]'],
    ]) {
      await page.goto(`${base}${path}`)
      await page.waitForSelector(selector, { timeout: 15000 })
      await screen(page, name)
    }
    const nav = await page.locator('[data-testid=nav] [data-nav]').evaluateAll((els) => els.map((e) => e.getAttribute('data-nav')))
    check('the administrator is offered administration only', nav.every((n) => n.startsWith('admin-')) && !nav.includes('admin-users'), JSON.stringify(nav))
    await admin.context.close()
  }

  // The security administrator creates a dispatcher for another town on the users screen.
  {
    const security = await session(browser, base, 'security')
    const { page } = security
    await page.goto(`${base}/admin/users`)
    await page.waitForSelector('[data-testid=users-table]')
    await page.click('[data-testid=add-user]')
    await page.fill('[data-testid=new-username]', OTHER_USER)
    await page.fill('[data-testid=new-display-name]', '岚漪值班')
    await page.fill('[data-testid=new-password]', OTHER_PASSWORD)
    await pickOption(page, page.locator('[data-testid=grant-role-0]'), '指挥中心值班员')
    await page.fill('[data-testid=grant-scope-0]', `region:${OTHER_TOWN}`)
    await page.click('[data-testid=save-user]')
    await page.waitForSelector(`[data-testid=users-table] td:has-text("${OTHER_USER}")`, { timeout: 15000 })
    check('the security administrator added a user of another town', true)
    await screen(page, '14-admin-users')
    await security.context.close()
  }

  // A user of another town cannot find or open it: not by list, not by search, not by URL.
  {
    const other = await session(browser, base, OTHER_USER, OTHER_PASSWORD)
    const { page } = other
    await page.goto(`${base}/cases`)
    await page.waitForSelector('[data-testid=case-table], [data-state=empty]', { timeout: 15000 })
    check('another town’s list does not hold it', (await page.locator(`[data-case-number="${number}"]`).count()) === 0)
    await page.goto(`${base}/cases?q=${encodeURIComponent('噪音')}`)
    await page.waitForSelector('[data-testid=case-table], [data-state=empty]', { timeout: 15000 })
    await page.waitForTimeout(500)
    check('another town’s search does not find it', (await page.locator(`[data-case-number="${number}"]`).count()) === 0)
    await page.goto(`${base}/cases?q=${encodeURIComponent(number)}`)
    await page.waitForTimeout(800)
    check('another town’s search by number does not find it', (await page.locator(`[data-case-number="${number}"]`).count()) === 0)
    await page.goto(`${base}/cases/${caseId}`)
    await page.waitForSelector('[data-testid=not-found]', { timeout: 15000 })
    check('another town cannot open it by URL', (await page.locator('[data-testid=case-number]').count()) === 0)
    await screen(page, '15-not-found')
    const status = await page.evaluate(async (id) => (await fetch(`/api/v1/cases/${id}`)).status, caseId)
    check('the API answers 404 to another town', status === 404, String(status))
    await other.context.close()
  }

  // Client routes load straight from the server (SPA fallback), the API keeps its own 404.
  {
    const r1 = await fetch(`${base}/cases/123`)
    check('a client route is served the application', r1.status === 200 && (await r1.text()).includes('<div id="app">'))
    const r2 = await fetch(`${base}/api/v1/not-a-route`)
    check('an unknown API path answers JSON 404', r2.status === 404 && (await r2.json()).code === 'no_route')
    const index = await (await fetch(`${base}/`)).text()
    const asset = /\/assets\/[^"]+\.js/.exec(index)?.[0]
    const r3 = await fetch(`${base}${asset}`)
    check('hashed assets are cached for a year', (r3.headers.get('cache-control') ?? '').includes('immutable'))
    const r4 = await fetch(`${base}/healthz`)
    check('/healthz is not shadowed', (await r4.text()) === 'ok')
  }

  for (const s of [clerk, dispatcher, handler]) await s.context.close()
}

