// The grid worker's offline queue: a report made on the phone is stored first (with its photo and the
// Idempotency-Key made at the moment of reporting), then sent when the browser is online. An item leaves the
// queue only after the server answered 2xx for the report and for its photo; a retry sends the same key, so the
// server answers with the same case rather than a second one, and the same photo is stored once.
//
// Storage is IndexedDB in the browser (it holds the photo as a Blob); tests use the in-memory store.

/** The case body as `POST /api/v1/cases` takes it (grid report). */
export interface ReportBody {
  kind: string
  channel: string
  title: string
  description: string
  address?: string
  lng?: number
  lat?: number
  coord_system?: string
  region_code?: string
}

export interface PendingReport {
  /** The Idempotency-Key, made when the report was made; also the item's id. */
  key: string
  createdAt: string
  body: ReportBody
  photo?: { name: string; blob: Blob } | null
  /** Set once the server registered the case (the photo may still be to send). */
  caseId?: number
  number?: string
  /** The server refused the report (4xx other than 408/429): kept, shown, not retried until edited or removed. */
  refused?: { status: number; message: string } | null
}

export interface QueueStorage {
  all(): Promise<PendingReport[]>
  put(item: PendingReport): Promise<void>
  remove(key: string): Promise<void>
}

/**
 * What sending needs from the server. Both reject with an error carrying `status`: 0 for no network, 401 when
 * the session ended (sending stops, nothing is marked refused), other 4xx refuse the item, 5xx/408/429 retry.
 */
export interface Sender {
  register(body: ReportBody, key: string): Promise<{ id: number; number: string }>
  photo(caseId: number, photo: { name: string; blob: Blob }): Promise<void>
}

export interface FlushResult {
  /** The keys sent (and removed) by this flush. */
  sent: string[]
  /** What the server answered for them: the case number and the report's title. */
  done: { key: string; number: string; title: string }[]
  /** Still queued (offline, server busy, or refused). */
  left: number
  /** True when sending stopped because the network is down. */
  offline: boolean
}

/** A fresh Idempotency-Key. */
export function newKey(): string {
  const c = globalThis.crypto as Crypto | undefined
  if (c?.randomUUID) return `grid-${c.randomUUID()}`
  return `grid-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`
}

/** Makes a queued report: the key is fixed now, once. */
export function makeReport(body: ReportBody, photo: { name: string; blob: Blob } | null, now = new Date()): PendingReport {
  return { key: newKey(), createdAt: now.toISOString(), body, photo }
}

function statusOf(e: unknown): number {
  const s = (e as { status?: unknown })?.status
  return typeof s === 'number' ? s : 0
}

function messageOf(e: unknown): string {
  const x = e as { messageZh?: string; message?: string }
  return x?.messageZh || x?.message || String(e)
}

/** Worth trying again later: no network, a timeout, the rate limit, a server error. */
export function retryable(status: number): boolean {
  return status === 0 || status === 408 || status === 429 || status >= 500
}

let running: Promise<FlushResult> | null = null

/**
 * Sends every queued report, oldest first. Only one flush runs at a time (an `online` event and a page load
 * arriving together share it). Progress (the case id) is written back before the photo goes, so a flush cut
 * off between the two does not register again — and if it did, the key would bring back the same case.
 */
export function flush(storage: QueueStorage, sender: Sender): Promise<FlushResult> {
  if (!running) {
    running = flushOnce(storage, sender).finally(() => {
      running = null
    })
  }
  return running
}

async function flushOnce(storage: QueueStorage, sender: Sender): Promise<FlushResult> {
  const items = (await storage.all()).sort((a, b) => a.createdAt.localeCompare(b.createdAt))
  const sent: string[] = []
  const done: FlushResult['done'] = []
  let offline = false
  for (const original of items) {
    if (original.refused) continue
    const item = { ...original }
    try {
      if (item.caseId == null) {
        const registered = await sender.register(item.body, item.key)
        item.caseId = registered.id
        item.number = registered.number
        await storage.put(item)
      }
      if (item.photo) await sender.photo(item.caseId, item.photo)
      await storage.remove(item.key)
      sent.push(item.key)
      done.push({ key: item.key, number: item.number ?? '', title: item.body.title })
    } catch (e) {
      const status = statusOf(e)
      if (status === 0) {
        offline = true
        break
      }
      // Signed out (the session ended while the phone was away): keep everything for after signing in again.
      if (status === 401) break
      if (!retryable(status)) {
        item.refused = { status, message: messageOf(e) }
        await storage.put(item)
      }
    }
  }
  const left = (await storage.all()).length
  return { sent, done, left, offline }
}

/** An in-memory store (tests, and browsers without IndexedDB — where the queue then lasts only the page). */
export class MemoryStorage implements QueueStorage {
  items = new Map<string, PendingReport>()
  async all() {
    return [...this.items.values()].map((i) => ({ ...i }))
  }
  async put(item: PendingReport) {
    this.items.set(item.key, { ...item })
  }
  async remove(key: string) {
    this.items.delete(key)
  }
}

/** IndexedDB: database `fengqiao`, store `pending-reports`, keyed by the Idempotency-Key. */
export class IdbStorage implements QueueStorage {
  private db: Promise<IDBDatabase> | null = null
  constructor(private name = 'fengqiao', private store = 'pending-reports') {}

  private open(): Promise<IDBDatabase> {
    if (!this.db) {
      this.db = new Promise((resolve, reject) => {
        const request = indexedDB.open(this.name, 1)
        request.onupgradeneeded = () => {
          if (!request.result.objectStoreNames.contains(this.store)) request.result.createObjectStore(this.store, { keyPath: 'key' })
        }
        request.onsuccess = () => resolve(request.result)
        request.onerror = () => reject(request.error)
      })
      this.db.catch(() => (this.db = null))
    }
    return this.db
  }

  private async run<T>(mode: IDBTransactionMode, f: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
    const db = await this.open()
    return new Promise((resolve, reject) => {
      const tx = db.transaction(this.store, mode)
      const request = f(tx.objectStore(this.store))
      // Resolved when the transaction is durable, not merely when the request succeeded.
      tx.oncomplete = () => resolve(request.result)
      tx.onerror = () => reject(tx.error)
      tx.onabort = () => reject(tx.error)
    })
  }

  all() {
    return this.run<PendingReport[]>('readonly', (s) => s.getAll() as IDBRequest<PendingReport[]>)
  }
  async put(item: PendingReport) {
    await this.run('readwrite', (s) => s.put(item))
  }
  async remove(key: string) {
    await this.run('readwrite', (s) => s.delete(key))
  }
}

/** The browser's queue: IndexedDB when there is one. */
export function browserStorage(): QueueStorage {
  return typeof indexedDB !== 'undefined' ? new IdbStorage() : new MemoryStorage()
}
