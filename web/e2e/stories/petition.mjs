// The petition story: a letter from 刘建国 is registered at the petition desk (a bad phone number is refused
// first) → on the town leader's reception day (seeded by the demo: every Monday) the clerk records the reception
// and registers the same petitioner's group visit of six raised at it → the repeat and group flags show, on the
// result, at the reception and in the list → the dispatcher sets up a schedule for the leader through the UI →
// the leader's backlog case (seeded by the demo) with its plan and milestones.

import { check, session, screen } from '../lib.mjs'

async function pickFirst(page, select) {
  await select.click()
  const option = page.locator('.el-select-dropdown__item:visible').nth(1)
  await option.waitFor({ timeout: 10000 })
  await option.click()
}

async function fillPetition(page, { channel, headCount, subject }) {
  const form = page.locator('.el-dialog:visible [data-testid=petition-form]')
  await form.waitFor()
  await form.locator(`[data-channel=${channel}]`).click()
  if (headCount) {
    const input = form.locator('[data-field=head_count] input, .el-input-number input').first()
    await input.fill(String(headCount))
    await input.blur()
  }
  await form.locator('[data-field=petitioner_name] input, input[data-field=petitioner_name]').first().fill('刘建国')
  await form.locator('[data-field=subject] input, input[data-field=subject]').first().fill(subject)
  await form.locator('textarea').first().fill('反映承包地被征收后补偿款迟迟未到位，要求尽快兑付。')
  await pickFirst(page, form.locator('[data-field=region_code]'))
  return form
}

export default async function petitionStory(browser, base) {
  const clerk = await session(browser, base, 'clerk')
  {
    const { page } = clerk
    await page.goto(`${base}/petitions`)
    await page.waitForSelector('[data-testid=register-petition]', { timeout: 15000 })
    await page.click('[data-testid=register-petition]')
    const form = await fillPetition(page, { channel: 'letter', subject: '承包地征收补偿款未到位' })
    await form.locator('[data-field=phone] input, input[data-field=phone]').first().fill('1390537')
    await page.click('.el-dialog:visible [data-testid=petition-submit]')
    await page.waitForSelector('.el-dialog:visible .el-form-item__error', { timeout: 5000 }).catch(() => undefined)
    const err = (await page.locator('.el-dialog:visible .el-form-item__error').allTextContents()).join(' ')
    check('a bad phone number is refused with a clear message', err.includes('电话号码格式不正确'), err)
    await form.locator('[data-field=phone] input, input[data-field=phone]').first().fill('13905378888')
    await page.click('.el-dialog:visible [data-testid=petition-submit]')
    await page.waitForSelector('[data-testid=petition-result]', { timeout: 15000 })
    const first = await page.locator('[data-testid=result-flags] [data-flag]').evaluateAll((els) => els.map((e) => e.getAttribute('data-flag')))
    check('a first letter carries no repeat or group flag', !first.includes('repeat') && !first.includes('group'), JSON.stringify(first))
    await page.keyboard.press('Escape')
  }

  // The reception day: the calendar, the reception recorded, the group visit registered at it.
  {
    const { page } = clerk
    await page.goto(`${base}/receptions`)
    await page.waitForSelector('[data-testid=reception-calendar] [data-reception-day]', { timeout: 20000 })
    const chips = await page.locator('[data-testid=reception-calendar] [data-reception-day]').allTextContents()
    check('the calendar shows the leaders’ reception days', chips.some((c) => c.includes('周镇长')), JSON.stringify(chips.slice(0, 4)))
    await screen(page, 'p1-reception-calendar')
    const panel = page.locator('[data-testid=day-panel]')
    await panel.locator('[data-record]').first().waitFor({ timeout: 10000 })
    await panel.locator('[data-record]').first().click()
    // Recording the reception opens the registration for a petition raised at it.
    const form = await fillPetition(page, { channel: 'visit', headCount: 6, subject: '承包地征收补偿款未到位' })
    await form.locator('[data-field=phone] input, input[data-field=phone]').first().fill('13905378888')
    check('the registration names the reception', (await page.locator('.el-dialog:visible .el-alert').first().textContent()).includes('在接访日登记'))
    await page.click('.el-dialog:visible [data-testid=petition-submit]')
    await page.waitForSelector('[data-testid=petition-result]', { timeout: 15000 })
    const flags = await page.locator('[data-testid=result-flags] [data-flag]').evaluateAll((els) => els.map((e) => e.getAttribute('data-flag')))
    check('the group visit is flagged as a repeat and a group visit', flags.includes('repeat') && flags.includes('group'), JSON.stringify(flags))
    await screen(page, 'p2-petition-registered')
    await page.keyboard.press('Escape')
    await page.waitForSelector('[data-testid=day-panel] .petition-line', { timeout: 10000 })
    const line = await page.textContent('[data-testid=day-panel] .petition-line')
    check('the reception lists the petition raised at it, with its flags', line.includes('承包地') && line.includes('重复信访') && line.includes('集体访'), line)

    await page.goto(`${base}/petitions`)
    await page.waitForSelector('[data-testid=petition-table] [data-flag=group]', { timeout: 15000 })
    const rows = await page.textContent('[data-testid=petition-table]')
    check('the petition list shows the flags and the head count', rows.includes('重复信访') && rows.includes('集体访') && rows.includes('6人'), rows.slice(0, 300))
    check('the petitioner’s phone is masked in the list and drawer', !rows.includes('13905378888'))
    await screen(page, 'p3-petitions')
    // The same screens in English fit the desktop too.
    await page.evaluate(() => localStorage.setItem('fq.locale', 'en'))
    await page.goto(`${base}/receptions`)
    await page.waitForSelector('[data-testid=reception-calendar] [data-reception-day]', { timeout: 20000 })
    check('the reception calendar speaks English on request', (await page.textContent('.receptions')).includes('Reception days') || (await page.textContent('.receptions')).includes('reception days'))
    await screen(page, 'p5-receptions-english')
    await page.evaluate(() => localStorage.setItem('fq.locale', 'zh-CN'))
  }

  // The dispatcher sets up a reception schedule through the UI.
  const dispatcher = await session(browser, base, 'dispatcher')
  {
    const { page } = dispatcher
    await page.goto(`${base}/receptions`)
    await page.waitForSelector('[data-testid=new-schedule]', { timeout: 15000 })
    await page.click('[data-testid=new-schedule]')
    const form = page.locator('.el-dialog:visible [data-testid=schedule-form]')
    await form.waitFor()
    await page.click('.el-dialog:visible .el-dialog__footer .el-button--primary')
    await page.waitForSelector('.el-dialog:visible .el-form-item__error', { timeout: 5000 }).catch(() => undefined)
    const err = (await page.locator('.el-dialog:visible .el-form-item__error').allTextContents()).join(' ')
    check('a schedule without leader and place is refused field by field', err.includes('此项必填'), err)
    await form.locator('.el-select').first().click()
    const leader = page.locator('.el-select-dropdown__item:visible', { hasText: '周镇长' }).first()
    await leader.waitFor({ timeout: 10000 })
    await leader.click()
    await form.locator('input[maxlength="200"]').fill('太平镇便民服务中心二楼接访室')
    await form.locator('.el-radio-button', { hasText: '每月' }).click()
    await page.click('.el-dialog:visible .el-dialog__footer .el-button--primary')
    await form.waitFor({ state: 'hidden', timeout: 15000 })
    check('the dispatcher created a monthly schedule for the leader', true)
    await page.waitForSelector('[data-testid=reception-calendar] [data-reception-day]', { timeout: 15000 })
  }

  // The leader's backlog: the case they own, its plan and milestones.
  const leader = await session(browser, base, 'leader')
  {
    const { page } = leader
    await page.goto(`${base}/backlog`)
    await page.waitForSelector('[data-testid=backlog-table] .el-table__row', { timeout: 15000 })
    const table = await page.textContent('[data-testid=backlog-table]')
    check('the leader sees the backlog case they own, with its status and progress', table.includes('宅基地确权') && table.includes('周镇长') && table.includes('正在化解'), table.slice(0, 300))
    await page.locator('[data-testid=backlog-table] .el-table__expand-icon').first().click()
    await page.waitForSelector('text=现场核实界址', { timeout: 5000 })
    check('the backlog case shows its plan and milestones', (await page.textContent('[data-testid=backlog-table]')).includes('自然资源所核实界址'))
    await screen(page, 'p4-backlog')
  }
  for (const s of [clerk, dispatcher, leader]) await s.context.close()
}
