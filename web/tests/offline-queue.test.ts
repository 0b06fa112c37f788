// The grid worker's offline queue: sent exactly once, kept until the server said 2xx, the key made once.
import { describe, expect, it } from 'vitest'
import { MemoryStorage, flush, makeReport, type ReportBody, type Sender } from '../src/lib/offlineQueue'

const body: ReportBody = { kind: 'grid_event', channel: 'grid_report', title: '井盖缺失', description: '路口井盖缺失', lng: 116.9, lat: 35.4, coord_system: 'wgs84' }
const photo = { name: 'p.png', blob: new Blob([new Uint8Array([137, 80, 78, 71])], { type: 'image/png' }) }

class FakeServer implements Sender {
  cases = new Map<string, { id: number; number: string }>()
  photos: [number, string][] = []
  online = true
  failNext: { step: 'register' | 'photo'; status: number } | null = null
  registerCalls: string[] = []
  private fail(step: 'register' | 'photo') {
    if (!this.online) throw Object.assign(new Error('offline'), { status: 0 })
    if (this.failNext?.step === step) {
      const status = this.failNext.status
      this.failNext = null
      throw Object.assign(new Error(`http ${status}`), { status, messageZh: '失败' })
    }
  }
  async register(_: ReportBody, key: string) {
    this.registerCalls.push(key)
    this.fail('register')
    // The server's idempotency: the same key answers the same case.
    let found = this.cases.get(key)
    if (!found) {
      found = { id: this.cases.size + 1, number: `N${this.cases.size + 1}` }
      this.cases.set(key, found)
    }
    return found
  }
  async photo(caseId: number, p: { name: string }) {
    this.fail('photo')
    if (!this.photos.some(([id, name]) => id === caseId && name === p.name)) this.photos.push([caseId, p.name])
  }
}

describe('the offline queue', () => {
  it('keeps a report made offline and sends it once when back online', async () => {
    const storage = new MemoryStorage()
    const server = new FakeServer()
    server.online = false
    const report = makeReport(body, photo)
    await storage.put(report)
    const first = await flush(storage, server)
    expect(first).toEqual({ sent: [], done: [], left: 1, offline: true })
    expect((await storage.all())[0].key).toBe(report.key)

    server.online = true
    const second = await flush(storage, server)
    expect(second).toEqual({ sent: [report.key], done: [{ key: report.key, number: 'N1', title: '井盖缺失' }], left: 0, offline: false })
    expect(server.cases.size).toBe(1)
    expect(server.photos).toEqual([[1, 'p.png']])
    // A second flush finds nothing to send.
    expect(await flush(storage, server)).toEqual({ sent: [], done: [], left: 0, offline: false })
    expect(server.cases.size).toBe(1)
  })

  it('makes the key when the report is made and sends that same key on every try', async () => {
    const storage = new MemoryStorage()
    const server = new FakeServer()
    const report = makeReport(body, null)
    expect(report.key).toMatch(/^grid-/)
    expect(makeReport(body, null).key).not.toBe(report.key)
    await storage.put(report)
    server.failNext = { step: 'register', status: 503 }
    expect((await flush(storage, server)).left).toBe(1)
    await flush(storage, server)
    expect(server.registerCalls).toEqual([report.key, report.key])
    expect(server.cases.size).toBe(1)
  })

  it('does not register again when only the photo failed, and keeps the item until the photo is sent', async () => {
    const storage = new MemoryStorage()
    const server = new FakeServer()
    await storage.put(makeReport(body, photo))
    server.failNext = { step: 'photo', status: 500 }
    const first = await flush(storage, server)
    expect(first.left).toBe(1)
    const [kept] = await storage.all()
    expect(kept.caseId).toBe(1)
    expect(kept.number).toBe('N1')
    await flush(storage, server)
    expect(server.registerCalls.length).toBe(1)
    expect(server.photos.length).toBe(1)
    expect(await storage.all()).toEqual([])
  })

  it('keeps a refused report with the reason and goes on with the others', async () => {
    const storage = new MemoryStorage()
    const server = new FakeServer()
    const bad = makeReport({ ...body, title: '' }, null, new Date('2026-11-23T01:00:00Z'))
    const good = makeReport(body, null, new Date('2026-11-23T02:00:00Z'))
    await storage.put(good)
    await storage.put(bad)
    server.failNext = { step: 'register', status: 422 }
    const result = await flush(storage, server)
    expect(result.sent).toEqual([good.key])
    const [left] = await storage.all()
    expect(left.key).toBe(bad.key)
    expect(left.refused).toEqual({ status: 422, message: '失败' })
    // Not retried by later flushes.
    await flush(storage, server)
    expect(server.registerCalls.filter((k) => k === bad.key).length).toBe(1)
  })

  it('sends oldest first, stops at the first network failure, and retries after the rate limit', async () => {
    const storage = new MemoryStorage()
    const server = new FakeServer()
    const a = makeReport(body, null, new Date('2026-11-23T01:00:00Z'))
    const b = makeReport(body, null, new Date('2026-11-23T02:00:00Z'))
    await storage.put(b)
    await storage.put(a)
    server.failNext = { step: 'register', status: 429 }
    const first = await flush(storage, server)
    expect(first.sent).toEqual([b.key])
    expect((await storage.all()).map((i) => i.key)).toEqual([a.key])
    expect((await storage.all())[0].refused).toBeUndefined()
    await flush(storage, server)
    expect(await storage.all()).toEqual([])
  })

  it('runs one flush at a time', async () => {
    const storage = new MemoryStorage()
    const server = new FakeServer()
    await storage.put(makeReport(body, photo))
    const [x, y] = await Promise.all([flush(storage, server), flush(storage, server)])
    expect(x).toBe(y)
    expect(server.registerCalls.length).toBe(1)
  })

  it('stops without refusing anything when the session has ended', async () => {
    const storage = new MemoryStorage()
    const server = new FakeServer()
    await storage.put(makeReport(body, null, new Date('2026-11-23T01:00:00Z')))
    await storage.put(makeReport(body, null, new Date('2026-11-23T02:00:00Z')))
    server.failNext = { step: 'register', status: 401 }
    const result = await flush(storage, server)
    expect(result).toMatchObject({ sent: [], left: 2, offline: false })
    expect((await storage.all()).every((i) => !i.refused)).toBe(true)
    expect((await flush(storage, server)).left).toBe(0)
  })
})
