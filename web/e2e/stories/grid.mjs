// The grid worker's story, on a 375 px phone: sign in → my grid on the map and my tasks (a case the center sent
// to the grid) → the phone goes offline → report an event with a photo and the phone's position → it waits in
// the queue → back online it is sent by itself → exactly one case with one photo exists; putting the sent report
// back in the queue (as if the phone had died between the server's answer and removing it) and sending again
// still leaves one case and one photo.

import QRCode from 'qrcode'
import { PASSWORD, check, phone, screen } from '../lib.mjs'
import { act, call, gridAndPoint, token } from '../api.mjs'

const TITLE = '网格巡查发现井盖缺失'

async function casesTitled(base, bearer, title) {
  const r = await call(base, bearer, 'GET', '/api/v1/cases?channel=grid_report&per_page=100')
  return r.json.items.filter((c) => c.title === title)
}

async function pendingCount(page) {
  return Number((await page.textContent('[data-testid=pending-count]')).trim())
}

export default async function gridStory(browser, base) {
  const gridworker = await token(base, 'gridworker')
  const dispatcher = await token(base, 'dispatcher')
  const { grid, lng, lat } = await gridAndPoint(base, gridworker)

  // A task: the center sends a case in the grid to the grid.
  const registered = await call(base, dispatcher, 'POST', '/api/v1/cases', {
    kind: 'request', channel: 'phone', title: '楼道堆放杂物请网格员核查', description: '群众来电反映楼道堆放杂物，存在消防隐患。',
    lng, lat, coord_system: 'wgs84',
  })
  const task = registered.json.case
  await act(base, dispatcher, task.id, { action: 'accept', category: 'grid_event' })
  await act(base, dispatcher, task.id, { action: 'dispatch', lead: `grid:${grid.code}` })

  const { context, page } = await phone(browser)
  await context.grantPermissions(['geolocation'], { origin: base })
  await context.setGeolocation({ longitude: lng, latitude: lat, accuracy: 10 })
  await page.goto(`${base}/login`)
  await page.fill('input[name=username]', 'gridworker')
  await page.fill('input[name=password]', PASSWORD)
  await page.click('[data-testid=login-submit]')
  await page.waitForURL((u) => u.pathname === '/m/grid', { timeout: 15000 }).catch(() => undefined)
  check('the grid worker lands on the phone view', new URL(page.url()).pathname === '/m/grid', page.url())
  await page.waitForSelector(`[data-testid=task][data-number="${task.number}"]`, { timeout: 15000 }).catch(() => undefined)
  check('my tasks list the case sent to my grid', (await page.locator(`[data-testid=task][data-number="${task.number}"]`).count()) === 1)
  await page.waitForFunction((name) => document.querySelector('[data-testid=my-grid]')?.textContent?.includes(name), grid.name, { timeout: 10000 }).catch(() => undefined)
  check('my grid is named and drawn on the map', (await page.textContent('[data-testid=my-grid]')).includes(grid.name) && (await page.locator('[data-testid=grid-view] path.leaflet-interactive').count()) >= 1)
  await screen(page, 'grid-01-phone-view')

  // Offline: the report waits in the queue.
  await context.setOffline(true)
  await page.waitForSelector('[data-testid=online-state][data-online=false]', { timeout: 5000 }).catch(() => undefined)
  check('the page knows it is offline', (await page.getAttribute('[data-testid=online-state]', 'data-online')) === 'false')
  await page.fill('[data-testid=report-title]', TITLE)
  await page.fill('[data-testid=report-description]', '幸福路与建设路路口井盖缺失，已设置临时警示。')
  await page.click('[data-testid=locate]')
  await page.waitForFunction(() => /\d+\.\d+, \d+\.\d+/.test(document.querySelector('[data-testid=report-point]')?.textContent ?? ''), null, { timeout: 10000 })
  const png = await QRCode.toBuffer('枫桥 grid photo')
  await page.setInputFiles('[data-testid=report-photo]', { name: '井盖.png', mimeType: 'image/png', buffer: png })
  await page.click('[data-testid=report-submit]')
  await page.waitForFunction(() => document.querySelector('[data-testid=pending-count]')?.textContent?.trim() === '1', null, { timeout: 10000 }).catch(() => undefined)
  check('the report made offline is queued (pending count 1)', (await pendingCount(page)) === 1)
  // Keep a copy of the queued item (key, body and photo) to put back later.
  const key = await page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('fengqiao', 1)
        open.onsuccess = () => {
          const request = open.result.transaction('pending-reports').objectStore('pending-reports').getAll()
          request.onsuccess = () => {
            window.__savedReport = request.result[0]
            resolve(request.result[0]?.key)
          }
          request.onerror = () => reject(request.error)
        }
        open.onerror = () => reject(open.error)
      }),
  )
  check('the queued report carries its Idempotency-Key and photo', typeof key === 'string' && key.startsWith('grid-'), String(key))
  check('nothing reached the server while offline', (await casesTitled(base, dispatcher, TITLE)).length === 0)
  await screen(page, 'grid-02-offline-queued')

  // Back online: sent by itself, exactly once.
  await context.setOffline(false)
  await page.waitForFunction(() => document.querySelector('[data-testid=pending-count]')?.textContent?.trim() === '0', null, { timeout: 20000 }).catch(() => undefined)
  check('back online the queue empties by itself', (await pendingCount(page)) === 0)
  await page.waitForSelector('[data-testid=sent-list]', { timeout: 5000 }).catch(() => undefined)
  let found = await casesTitled(base, dispatcher, TITLE)
  check('exactly one case exists for the report', found.length === 1, `${found.length}`)
  const sentText = await page.textContent('[data-testid=sent-list]').catch(() => '')
  check('the page shows the case number it got', found.length === 1 && sentText.includes(found[0].number), sentText)
  const reported = found[0]
  check('the report is placed in my grid', reported?.grid_code === grid.code && reported?.kind === 'grid_event', JSON.stringify(reported && { grid: reported.grid_code, kind: reported.kind }))
  let files = (await call(base, dispatcher, 'GET', `/api/v1/cases/${reported.id}/attachments`)).json
  check('with its photo', files.length === 1 && files[0].content_type === 'image/png', JSON.stringify(files))
  await screen(page, 'grid-03-sent')

  // A second flush of the same report (the answer was lost before the item was removed): still one case.
  await page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('fengqiao', 1)
        open.onsuccess = () => {
          const tx = open.result.transaction('pending-reports', 'readwrite')
          tx.objectStore('pending-reports').put(window.__savedReport)
          tx.oncomplete = () => resolve(true)
          tx.onerror = () => reject(tx.error)
        }
      }),
  )
  await page.reload()
  await page.waitForSelector('[data-testid=grid-view]')
  await page.waitForFunction(() => document.querySelector('[data-testid=pending-count]')?.textContent?.trim() === '0', null, { timeout: 20000 }).catch(() => undefined)
  check('the re-queued report is flushed again', (await pendingCount(page)) === 0)
  found = await casesTitled(base, dispatcher, TITLE)
  files = (await call(base, dispatcher, 'GET', `/api/v1/cases/${reported.id}/attachments`)).json
  check('a second flush does not duplicate the case or its photo', found.length === 1 && found[0].id === reported.id && files.length === 1, `${found.length} cases, ${files.length} files`)
  await context.close()
}
