// Sends a file's bytes as the request body (imports and attachments), with the CSRF token.
import { ApiError, csrfToken, withQuery } from '../api/client'

export async function sendFile<T>(path: string, query: Record<string, string | number>, body: Blob | string, contentType: string): Promise<T> {
  const r = await fetch(withQuery(path, query), {
    method: 'POST', body, credentials: 'same-origin',
    headers: { 'X-CSRF-Token': csrfToken(), 'Content-Type': contentType, Accept: 'application/json' },
  })
  const json = await r.json().catch(() => ({}))
  if (!r.ok) throw new ApiError(r.status, String(json.code ?? r.status), String(json.message_zh ?? ''), String(json.message_en ?? ''), json.fields ?? [])
  return json as T
}
