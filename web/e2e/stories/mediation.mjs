// The mediation story: a neighbours' dispute registered at the center → the dispatcher starts a mediation from
// the case page in the town's committee, naming the mediator (rota and caseload shown) → the mediator finds it
// on the mediation desk, records a session with minutes, is stopped by a clear error on a bad amount, concludes
// the agreement → the agreement is previewed and downloaded (a real PDF) → the follow-up visit is listed as due.

import { check, log, session, screen } from '../lib.mjs'

/** POST as the signed-in page (cookie session, CSRF echoed). */
async function post(page, path, body) {
  return page.evaluate(
    async ([p, b]) => {
      const m = document.cookie.match(/(?:^|;\s*)fq_csrf=([^;]+)/)
      const r = await fetch(p, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': m ? decodeURIComponent(m[1]) : '' }, body: JSON.stringify(b) })
      return { status: r.status, body: await r.json().catch(() => null) }
    },
    [path, body],
  )
}

function shanghaiDay(offsetDays = 0) {
  const d = new Date(Date.now() + offsetDays * 86400000)
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }).format(d)
}

async function fillPicker(page, input, text) {
  await input.click()
  await input.fill(text)
  await input.press('Enter')
  // Close the picker's panel without closing the dialog (Escape would close both).
  await page.locator('.el-dialog:visible .el-dialog__title').click()
}

export default async function mediationStory(browser, base) {
  const dispatcher = await session(browser, base, 'dispatcher')
  let caseId
  let mediationId
  {
    const { page } = dispatcher
    const made = await post(page, '/api/v1/cases', {
      kind: 'dispute', channel: 'walk_in', category: 'dispute.neighbour', title: '宅基地滴水檐纠纷',
      description: '孟庆华与邻居韩立新因新建房屋滴水檐越界发生争执，要求调解。', address: '太平镇鲍店社区西街', region_code: '370883107',
      parties: [{ role: 'applicant', name: '孟庆华', phone: '13905371234' }, { role: 'respondent', name: '韩立新' }],
    })
    caseId = made.body?.case?.id ?? made.body?.id
    check('a dispute case is registered for the story', made.status === 201 && Number.isFinite(caseId), JSON.stringify(made))
    await page.goto(`${base}/cases/${caseId}`)
    await page.waitForSelector('[data-testid=start-mediation]', { timeout: 15000 })
    check('the dispatcher is offered “start mediation” on a dispute case', true)
    await page.click('[data-testid=start-mediation]')
    const form = page.locator('.el-dialog:visible [data-testid=start-form]')
    await form.waitFor()
    // The committee is chosen when it is the only one; the mediator is picked with rota and caseload shown.
    await page.waitForFunction(() => document.querySelector('.el-dialog [data-field=committee_id]')?.textContent?.includes('太平镇'), null, { timeout: 10000 }).catch(() => undefined)
    await form.locator('[data-field=mediator_user_id]').click()
    const option = page.locator('.el-select-dropdown__item:visible', { hasText: '孙调解' }).first()
    await option.waitFor({ timeout: 10000 })
    const optionText = await option.textContent()
    check('the mediator choice shows duty and caseload', optionText.includes('专职调解员') && optionText.includes('在办'), optionText)
    await option.click()
    await page.click('.el-dialog:visible [data-testid=start-submit]')
    await page.waitForURL(/\/mediations\/\d+$/, { timeout: 15000 })
    mediationId = Number(new URL(page.url()).pathname.split('/').pop())
    check('starting a mediation opens its page', Number.isFinite(mediationId))
    const status = await page.getAttribute('[data-testid=mediation-status]', 'data-status')
    check('the mediation is accepted', status === 'accepted', status)
    check('the dispatcher (not a committee mediator) is offered no step', (await page.locator('[data-testid=mediation-actions] [data-step]').count()) === 0)
  }

  const mediator = await session(browser, base, 'mediator')
  {
    const { page } = mediator
    check('the mediator lands on the mediation desk', new URL(page.url()).pathname === '/mediation', page.url())
    await page.waitForSelector(`[data-mediation-row="${mediationId}"]`, { timeout: 20000 })
    check('the new mediation is on the desk’s list', true)
    await screen(page, 'm1-mediation-desk')
    await page.locator('[data-testid=mediation-tabs] .el-tabs__item', { hasText: '调委会与调解员' }).click()
    await page.waitForSelector('[data-testid=mediators-table] .el-table__row', { timeout: 15000 })
    const table = await page.textContent('[data-testid=mediators-table]')
    check('the committee tab lists mediators with their rota (两代表一委员)', table.includes('孙调解') && table.includes('两代表一委员') && table.includes('每月'), table.slice(0, 200))
    await screen(page, 'm2-committees')

    await page.goto(`${base}/mediations/${mediationId}`)
    await page.waitForSelector('[data-testid=mediation-actions] [data-step=record_session]', { timeout: 15000 })
    check('an agreement is not offered before any session', (await page.locator('[data-step=conclude_agreement]').count()) === 0)
    // A session with minutes.
    await page.click('[data-step=record_session]')
    let form = page.locator('.el-dialog:visible [data-testid=step-form]')
    await form.waitFor()
    await fillPicker(page, form.locator('.el-date-editor input').first(), `${shanghaiDay()} 09:30:00`)
    await form.locator('[data-field=place] input, input[data-field=place]').first().fill('太平镇人民调解委员会调解室')
    const attendees = await form.locator('[data-field=attendees] input, input[data-field=attendees]').first().inputValue()
    check('the attendees start from the parties', attendees.includes('孟庆华') && attendees.includes('韩立新'), attendees)
    await form.locator('textarea').first().fill('双方到场陈述，韩立新同意改造滴水檐并赔偿损失。')
    await page.click('.el-dialog:visible [data-testid=step-submit]')
    await form.waitFor({ state: 'hidden', timeout: 15000 })
    await page.waitForSelector('[data-testid=sessions] :text("同意改造滴水檐")', { timeout: 15000 })
    check('the session and its minutes are on the record', true)
    const status = await page.getAttribute('[data-testid=mediation-status]', 'data-status')
    check('the mediation is in progress after a session', status === 'in_progress', status)

    // The agreement: a bad amount is refused with a clear error, then it is concluded.
    await page.click('[data-step=conclude_agreement]')
    form = page.locator('.el-dialog:visible [data-testid=step-form]')
    await form.waitFor()
    await form.locator('textarea').first().fill('双方因新建房屋滴水檐越界发生争执，经调解达成协议。')
    await form.locator('[data-field=term-0] input, input[data-field=term-0]').first().fill('韩立新于三十日内将滴水檐改造至自家宅基地范围内')
    await page.click('[data-testid=add-term]')
    await form.locator('[data-field=term-1] input, input[data-field=term-1]').first().fill('韩立新赔偿孟庆华墙面损失')
    await form.locator('[data-field=amount-1] input, input[data-field=amount-1]').first().fill('一千二')
    await fillPicker(page, form.locator('.el-date-editor input').first(), shanghaiDay(30))
    await page.click('.el-dialog:visible [data-testid=step-submit]')
    await page.waitForSelector('.el-dialog:visible .el-form-item__error', { timeout: 5000 }).catch(() => undefined)
    const err = (await page.locator('.el-dialog:visible .el-form-item__error').allTextContents()).join(' ')
    check('a bad amount is refused with a clear message', err.includes('金额格式不正确'), err)
    await screen(page, 'm3-agreement-form')
    await form.locator('[data-field=amount-1] input, input[data-field=amount-1]').first().fill('1200')
    await page.click('.el-dialog:visible [data-testid=step-submit]')
    await form.waitFor({ state: 'hidden', timeout: 20000 })
    await page.waitForSelector('[data-testid=mediation-status][data-status=agreed]', { timeout: 15000 })
    check('the mediation reaches an agreement', true)
    const card = await page.textContent('[data-testid=agreement-card]')
    check('the agreement shows its terms and amounts', card.includes('滴水檐') && card.includes('1200.00'), card)
    await screen(page, 'm4-mediation-agreed')

    // The preview of the 调解协议书.
    await page.click('[data-testid=agreement-preview]')
    await page.waitForSelector('[data-testid=agreement-document]', { timeout: 10000 })
    const doc = await page.textContent('[data-testid=agreement-document]')
    check('the preview shows the agreement document', doc.includes('人民调解协议书') && doc.includes('孟庆华') && doc.includes('韩立新') && doc.includes('1200.00'), doc)
    await screen(page, 'm5-agreement-preview')
    await page.keyboard.press('Escape')
    await page.locator('[data-testid=agreement-document]').waitFor({ state: 'hidden' }).catch(() => undefined)

    // The download: the browser receives the generated PDF.
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 60000 }), page.click('[data-testid=agreement-pdf]')])
    const stream = await download.createReadStream()
    const chunks = []
    for await (const c of stream) chunks.push(c)
    const pdf = Buffer.concat(chunks)
    check('the agreement downloads as a PDF', pdf.subarray(0, 4).toString('latin1') === '%PDF' && pdf.length > 1000, `${download.suggestedFilename()} ${pdf.length} bytes`)
    log(`# downloaded ${download.suggestedFilename()} (${pdf.length} bytes)`)

    // The follow-up visit is due within 30 days.
    await page.goto(`${base}/mediation?tab=followups`)
    await page.waitForSelector('[data-testid=followups-table] .el-table__row', { timeout: 20000 })
    const due = await page.textContent('[data-testid=followups-table]')
    check('the agreement’s follow-up visit is listed as due', due.includes('370883107'), due.slice(0, 200))
    await screen(page, 'm6-followups-due')
  }

  // The case page lists the mediation for the dispatcher.
  {
    const { page } = dispatcher
    await page.goto(`${base}/cases/${caseId}`)
    await page.waitForSelector(`[data-testid=case-mediations] [data-mediation="${mediationId}"]`, { timeout: 15000 })
    check('the case page lists its mediation', true)
    check('no second mediation is offered after an agreement', (await page.locator('[data-testid=start-mediation]').count()) === 0)
  }
  // The administrator keeps the committee's mediators and their rota.
  const admin = await session(browser, base, 'admin')
  {
    const { page } = admin
    await page.goto(`${base}/admin/committees`)
    await page.waitForSelector('text=陈玉兰（镇人大代表）', { timeout: 15000 })
    await page.click('[data-testid=new-mediator]')
    const dialog = page.locator('.el-dialog:visible')
    await dialog.locator('input[maxlength="50"]').fill('赵光明（村法律顾问）')
    await dialog.locator('.el-select').nth(1).click()
    for (const d of ['6', '16', '26']) await page.locator('.el-select-dropdown__item:visible', { hasText: new RegExp(`^${d}$`) }).first().click()
    await dialog.locator('.el-dialog__title').click()
    await dialog.locator('.el-dialog__footer .el-button--primary').click()
    await page.waitForSelector('text=赵光明（村法律顾问）', { timeout: 15000 })
    const row = await page.locator('.el-table__row', { hasText: '赵光明' }).textContent()
    check('the administrator adds a mediator with a rota', row.includes('每月 6、16、26 日'), row)
    await screen(page, 'm7-admin-committees')
  }
  await admin.context.close()
  await dispatcher.context.close()
  await mediator.context.close()
}
