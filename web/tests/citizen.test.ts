// The citizen's page helpers: the QR code's place, the page's device id, the submission key, my submissions.
import { describe, expect, it } from 'vitest'
import { deviceId, mySubmissions, placeFromQuery, remember, reportUrl, settleSubmission, submissionKey, trackUrl } from '../src/lib/citizen'

class KV {
  data = new Map<string, string>()
  getItem(k: string) {
    return this.data.get(k) ?? null
  }
  setItem(k: string, v: string) {
    this.data.set(k, v)
  }
  removeItem(k: string) {
    this.data.delete(k)
  }
}

describe('the place a QR code names', () => {
  it('reads a village code or a service hall id, and nothing else', () => {
    expect(placeFromQuery({ region: '370883107001' })).toEqual({ region: '370883107001' })
    expect(placeFromQuery({ region: ['370883107001', 'x'] })).toEqual({ region: '370883107001' })
    expect(placeFromQuery({ hall: '12' })).toEqual({ hall: 12 })
    expect(placeFromQuery({ region: '37088310700x' })).toBeNull()
    expect(placeFromQuery({ hall: '-1' })).toBeNull()
    expect(placeFromQuery({ hall: '1.5' })).toBeNull()
    expect(placeFromQuery({})).toBeNull()
  })
  it('round-trips through the printed URL', () => {
    for (const place of [{ region: '370883107001' }, { hall: 7 }]) {
      const url = new URL(reportUrl('https://fq.example.cn/', place))
      expect(url.pathname).toBe('/report')
      expect(placeFromQuery(Object.fromEntries(url.searchParams))).toEqual(place)
    }
  })
  it('links the receipt to its progress', () => {
    expect(trackUrl('370883107-20261123-0001', 'AB 12')).toBe('/track?number=370883107-20261123-0001&secret=AB%2012')
  })
})

describe('the phone’s own records', () => {
  it('keeps one device id', () => {
    const kv = new KV()
    const id = deviceId(kv)
    expect(id).toMatch(/^[A-Za-z0-9_-]{8,100}$/)
    expect(deviceId(kv)).toBe(id)
    kv.setItem('fq.deviceId', 'bad id!')
    expect(deviceId(kv)).not.toBe('bad id!')
  })
  it('keeps the submission key until the server accepted it', () => {
    const kv = new KV()
    const key = submissionKey(kv)
    expect(submissionKey(kv)).toBe(key)
    settleSubmission(kv)
    expect(submissionKey(kv)).not.toBe(key)
  })
  it('remembers submissions newest first without losing a secret to a replay', () => {
    const kv = new KV()
    remember({ number: 'N1', secret: 'S1', key: 'k1', title: 'a', at: '1' }, kv)
    remember({ number: 'N2', secret: 'S2', key: 'k2', title: 'b', at: '2' }, kv)
    const list = remember({ number: 'N1', secret: null, key: 'k1', title: 'a', at: '3' }, kv)
    expect(list.map((s) => [s.number, s.secret])).toEqual([['N1', 'S1'], ['N2', 'S2']])
    kv.setItem('fq.mySubmissions', 'not json')
    expect(mySubmissions(kv)).toEqual([])
  })
})
