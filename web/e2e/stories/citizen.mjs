// The citizen story (扫码点单), on a 375 px phone: the administrator prints the sheet of QR codes → a citizen
// opens a village's QR URL, submits a matter with a photo and the phone's position, gets a number and tracking
// code → tracks it → staff handle it (over the API: accept, dispatch to the grid, the grid worker claims and
// resolves, the center reviews) → the citizen sees the outcome without staff names and rates it once → the
// rating shows, and the case is closed with that satisfaction.

import QRCode from 'qrcode'
import { check, phone, screen, session } from '../lib.mjs'
import { act, call, gridAndPoint, token } from '../api.mjs'

export default async function citizenStory(browser, base) {
  const gridworker = await token(base, 'gridworker')
  const dispatcher = await token(base, 'dispatcher')
  const { grid, lng, lat } = await gridAndPoint(base, gridworker)

  // The administrator's sheet of QR codes for the demo town, at 1366 px.
  {
    const admin = await session(browser, base, 'admin')
    const { page } = admin
    await page.goto(`${base}/admin/qr?town=370883107`)
    await page.waitForSelector('[data-testid=qr-card] img', { timeout: 20000 })
    const cards = await page.locator('[data-testid=qr-card]').evaluateAll((els) => els.map((e) => [e.getAttribute('data-kind'), e.getAttribute('data-url')]))
    const village = cards.find(([kind, url]) => kind === 'region' && url.endsWith(`region=${grid.village_code}`))
    check('the QR sheet has a code for every village of the town and for the service hall', !!village && cards.some(([kind]) => kind === 'hall'), JSON.stringify(cards.slice(0, 4)))
    await screen(page, 'citizen-00-admin-qr-sheet')
    await admin.context.close()
  }

  const { context, page } = await phone(browser)
  await context.grantPermissions(['geolocation'], { origin: base })
  await context.setGeolocation({ longitude: lng, latitude: lat, accuracy: 10 })
  let number
  let secret
  {
    await page.goto(`${base}/report?region=${grid.village_code}`)
    await page.waitForSelector('[data-testid=citizen-place]', { timeout: 15000 })
    const place = await page.textContent('[data-testid=citizen-place]')
    check('the QR URL names its village on the citizen page', place.includes('太平镇'), place)
    await screen(page, 'citizen-01-form')
    // Nothing filled in: the page says which fields are missing and sends nothing.
    await page.click('[data-testid=citizen-submit]')
    await page.waitForSelector('.field-error')
    check('an empty submission says what is missing', (await page.locator('.field-error').count()) >= 2)
    await page.fill('[data-testid=citizen-title]', '村口路灯不亮')
    await page.fill('[data-testid=citizen-description]', '村口路灯坏了三天，晚上出行很不方便。')
    const png = await QRCode.toBuffer('枫桥 citizen photo')
    await page.setInputFiles('[data-testid=citizen-photos]', { name: '路灯.png', mimeType: 'image/png', buffer: png })
    await page.click('[data-testid=citizen-locate]')
    await page.waitForFunction(() => document.querySelector('[data-testid=citizen-point]')?.textContent?.includes('已获取'), null, { timeout: 10000 })
    await page.click('[data-testid=citizen-submit]')
    await page.waitForSelector('[data-testid=citizen-receipt]', { timeout: 20000 })
    number = (await page.textContent('[data-testid=citizen-number]')).trim()
    secret = (await page.textContent('[data-testid=citizen-secret]')).trim()
    check('submitting gives a number and a tracking code', /^370883107-\d{8}-\d{4}$/.test(number) && secret.length >= 6, `${number} ${secret}`)
    check('the photo went up with it', (await page.textContent('[data-testid=citizen-photos-sent]').catch(() => '')).includes('1'))
    await screen(page, 'citizen-02-receipt')
    await page.click('[data-testid=citizen-track-link]')
    await page.waitForSelector('[data-testid=track-result]', { timeout: 15000 })
    check('the receipt links to its progress', (await page.textContent('[data-testid=track-result]')).includes('村口路灯不亮'))
    await screen(page, 'citizen-03-track')
  }

  // Staff handle it: the center accepts it and sends it to the grid; the grid worker claims and resolves it.
  const found = await call(base, dispatcher, 'GET', `/api/v1/cases?channel=self_service&per_page=50`)
  const mine = found.json.items.find((c) => c.number === number)
  check('the submission is a self-service case in the grid the phone stood in', mine?.grid_code === grid.code, JSON.stringify(mine && { grid: mine.grid_code, status: mine.status }))
  const photos = await call(base, dispatcher, 'GET', `/api/v1/cases/${mine.id}/attachments`)
  check('staff see the citizen’s photo on the case', photos.json.length === 1 && photos.json[0].content_type === 'image/png', JSON.stringify(photos.json))
  await act(base, dispatcher, mine.id, { action: 'accept', category: 'urban_management.street_light' })
  await act(base, dispatcher, mine.id, { action: 'dispatch', lead: `grid:${grid.code}` })
  await act(base, gridworker, mine.id, { action: 'claim' })
  await act(base, gridworker, mine.id, { action: 'resolve', result: '已更换灯泡，路灯恢复照明。' })
  await act(base, dispatcher, mine.id, { action: 'approve_review' })

  {
    await page.reload()
    await page.waitForSelector('[data-testid=track-rate]', { timeout: 15000 })
    const text = await page.textContent('[data-testid=track-result]')
    check('the citizen sees the outcome', text.includes('已更换灯泡'), text)
    check('the progress page shows no staff names', !text.includes('赵网格') && !text.includes('李值班') && !text.includes('gridworker'), text)
    await screen(page, 'citizen-04-outcome')
    await page.locator('[data-testid=track-rate] label', { hasText: '基本满意' }).click()
    await page.fill('[data-testid=track-rate] textarea', '修得很快')
    await page.click('[data-testid=track-rate-submit]')
    await page.waitForSelector('[data-testid=track-rated]', { timeout: 15000 })
    const rated = await page.getAttribute('[data-testid=track-rated]', 'data-outcome')
    check('the rating shows on the progress page', rated === 'basically_satisfied' && (await page.textContent('[data-testid=track-rated]')).includes('基本满意'), rated)
    check('it can be given once', (await page.locator('[data-testid=track-rate]').count()) === 0)
    await screen(page, 'citizen-05-rated')
    const after = (await call(base, dispatcher, 'GET', `/api/v1/cases/${mine.id}`)).json
    check('the case is closed with the citizen’s satisfaction', after.status === 'closed' && after.satisfaction === 'basically_satisfied', `${after.status} ${after.satisfaction}`)
    const again = await call(base, dispatcher, 'POST', `/api/v1/public/cases/${encodeURIComponent(number)}/rating`, { secret, outcome: 'dissatisfied' })
    check('a second, different rating is refused', again.status === 409, `${again.status}`)
  }
  await context.close()
}
