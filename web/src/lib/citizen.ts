// The citizen's page (扫码点单): the place a printed QR code names, the page's device id, the submissions this
// phone made (number and tracking code, so the citizen can come back to them), and a submission's key that
// survives a failed send (sending again never makes a second case).

export type Place = { region: string } | { hall: number }

/** The place in the page's query (`?region=12 digits` or `?hall=id`), or null. */
export function placeFromQuery(query: Record<string, unknown>): Place | null {
  const one = (v: unknown) => (Array.isArray(v) ? v[0] : v)
  const region = String(one(query.region) ?? '').trim()
  if (/^\d{6,12}$/.test(region)) return { region }
  const hall = Number(one(query.hall))
  if (Number.isInteger(hall) && hall > 0) return { hall }
  return null
}

/** The URL a printed QR code carries for a place. */
export function reportUrl(origin: string, place: Place): string {
  const base = origin.replace(/\/+$/, '')
  return 'region' in place ? `${base}/report?region=${encodeURIComponent(place.region)}` : `${base}/report?hall=${place.hall}`
}

/** The receipt's tracking link. */
export function trackUrl(number: string, secret: string): string {
  return `/track?number=${encodeURIComponent(number)}&secret=${encodeURIComponent(secret)}`
}

interface KeyValue {
  getItem(key: string): string | null
  setItem(key: string, value: string): void
  removeItem(key: string): void
}

const store = (): KeyValue => localStorage

/** This phone's id for the public page (made once, kept). */
export function deviceId(kv: KeyValue = store()): string {
  let id = kv.getItem('fq.deviceId')
  if (!id || !/^[A-Za-z0-9_-]{8,100}$/.test(id)) {
    const c = globalThis.crypto as Crypto | undefined
    id = `d-${c?.randomUUID ? c.randomUUID() : `${Date.now().toString(36)}${Math.random().toString(36).slice(2)}`}`
    kv.setItem('fq.deviceId', id)
  }
  return id
}

/**
 * The Idempotency-Key of the submission being written: made once, kept until the server answered 2xx
 * (`settle`), so pressing "submit" again after a network failure sends the same key.
 */
export function submissionKey(kv: KeyValue = store()): string {
  let key = kv.getItem('fq.submissionKey')
  if (!key) {
    key = `sub-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`
    kv.setItem('fq.submissionKey', key)
  }
  return key
}

export function settleSubmission(kv: KeyValue = store()) {
  kv.removeItem('fq.submissionKey')
}

export interface MySubmission {
  number: string
  /** Null when the answer was a replay (the secret is shown once); photos then go by device + key. */
  secret: string | null
  key: string
  title: string
  at: string
}

export function mySubmissions(kv: KeyValue = store()): MySubmission[] {
  try {
    const list = JSON.parse(kv.getItem('fq.mySubmissions') ?? '[]')
    return Array.isArray(list) ? list.filter((x) => x && typeof x.number === 'string') : []
  } catch {
    return []
  }
}

/** Remembers a submission (newest first, one entry per number, at most 20); a known secret is never lost. */
export function remember(s: MySubmission, kv: KeyValue = store()): MySubmission[] {
  const list = mySubmissions(kv)
  const old = list.find((x) => x.number === s.number)
  const merged = { ...s, secret: s.secret ?? old?.secret ?? null }
  const next = [merged, ...list.filter((x) => x.number !== s.number)].slice(0, 20)
  kv.setItem('fq.mySubmissions', JSON.stringify(next))
  return next
}
