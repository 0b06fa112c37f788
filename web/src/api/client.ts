// The one way the page talks to the server: same-origin fetch with the session cookie, the CSRF token echoed
// on changes, and the API's error shape (`code`, `message_zh`, `message_en`, `fields`) turned into ApiError.

import type { components } from './schema'

export type Schemas = components['schemas']
export type CaseOut = Schemas['CaseOut']
export type UserOut = Schemas['UserOut']
export type GrantOut = Schemas['GrantOut']
export type MeResponse = Schemas['MeResponse']
export type LoginResponse = Schemas['LoginResponse']
export type RegionOut = Schemas['RegionOut']
export type GridOut = Schemas['GridOut']
export type DepartmentOut = Schemas['DepartmentOut']
export type ResidentOut = Schemas['ResidentOut']
export type RegisteredOut = Schemas['RegisteredOut']
export type LocationOut = Schemas['LocationOut']
export interface Paged<T> {
  items: T[]
  total: number
}

export interface FieldError {
  field: string
  code: string
  message_zh: string
  message_en: string
}

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    public messageZh: string,
    public messageEn: string,
    public fields: FieldError[] = [],
  ) {
    super(messageEn || code)
  }
  /** The message in the interface's language. */
  text(locale: string): string {
    return locale.startsWith('zh') ? this.messageZh || this.messageEn : this.messageEn || this.messageZh
  }
}

/** Called when the session has ended (401), so the page can go back to sign-in. */
let onUnauthenticated: (() => void) | null = null
export function setUnauthenticatedHandler(f: () => void) {
  onUnauthenticated = f
}

export function csrfToken(): string {
  const m = document.cookie.match(/(?:^|;\s*)fq_csrf=([^;]+)/)
  return m ? decodeURIComponent(m[1]) : ''
}

type Query = Record<string, string | number | boolean | undefined | null>

export function withQuery(path: string, query?: Query): string {
  if (!query) return path
  const qs = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') qs.set(k, String(v))
  const s = qs.toString()
  return s ? `${path}?${s}` : path
}

async function toError(response: Response): Promise<ApiError> {
  let body: Record<string, unknown> = {}
  try {
    body = await response.json()
  } catch {
    /* not JSON */
  }
  return new ApiError(
    response.status,
    String(body.code ?? `http_${response.status}`),
    String(body.message_zh ?? `请求失败（${response.status}）`),
    String(body.message_en ?? `request failed (${response.status})`),
    (body.fields as FieldError[]) ?? [],
  )
}

export async function request<T>(
  method: string,
  path: string,
  opts: { query?: Query; body?: unknown; raw?: BodyInit; headers?: Record<string, string> } = {},
): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers }
  if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = csrfToken()
  let body: BodyInit | undefined = opts.raw
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json'
    body = JSON.stringify(opts.body)
  }
  let response: Response
  try {
    response = await fetch(withQuery(path, opts.query), { method, headers, body, credentials: 'same-origin' })
  } catch {
    throw new ApiError(0, 'network', '无法连接服务器，请检查网络', 'cannot reach the server')
  }
  if (response.status === 401 && !path.endsWith('/auth/login')) onUnauthenticated?.()
  if (!response.ok) throw await toError(response)
  if (response.status === 204) return undefined as T
  const type = response.headers.get('content-type') ?? ''
  return (type.includes('json') ? await response.json() : await response.text()) as T
}

export const api = {
  get: <T>(path: string, query?: Query) => request<T>('GET', path, { query }),
  post: <T>(path: string, body?: unknown, query?: Query) => request<T>('POST', path, { body, query }),
  put: <T>(path: string, body?: unknown) => request<T>('PUT', path, { body }),
  patch: <T>(path: string, body?: unknown) => request<T>('PATCH', path, { body }),
}

/** Acts on a case (`POST /api/v1/cases/{id}/actions`); the version guards against acting on stale data. */
export function act(c: { id: number; version: number }, action: string, fields: Record<string, unknown> = {}) {
  return api.post<CaseOut>(`/api/v1/cases/${c.id}/actions`, { action, ...fields }, { expected_version: c.version })
}

/**
 * Downloads a file (an XLSX export), reporting progress as bytes arrive (`total` from Content-Length when the
 * server gives one), then hands it to the browser as a download.
 */
export async function download(
  path: string,
  query: Query,
  onProgress: (received: number, total: number | null) => void,
): Promise<{ name: string; rows: number | null; size: number }> {
  const response = await fetch(withQuery(path, query), { credentials: 'same-origin' })
  if (!response.ok) throw await toError(response)
  const total = Number(response.headers.get('content-length')) || null
  const reader = response.body?.getReader()
  const chunks: Uint8Array[] = []
  let received = 0
  if (reader) {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      chunks.push(value)
      received += value.length
      onProgress(received, total)
    }
  }
  const disposition = response.headers.get('content-disposition') ?? ''
  const name = /filename="?([^";]+)"?/.exec(disposition)?.[1] ?? 'export.xlsx'
  const blob = new Blob(chunks as BlobPart[], { type: response.headers.get('content-type') ?? '' })
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = name
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10000)
  const rows = response.headers.get('x-row-count')
  return { name, rows: rows ? Number(rows) : null, size: received }
}
