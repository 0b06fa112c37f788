// Turning what a form check or the API said into what the form shows: per-field messages (i18n keys from the
// checks, the API's own words for its field errors) and one line for everything else.
import { ApiError } from '../api/client'

export interface FormProblems {
  /** Field → message shown under that field. */
  fields: Record<string, string>
  /** What belongs to no field on the form (or the error as a whole). */
  general: string[]
}

/**
 * The API's field errors in the interface's language, placed on the form's fields where the names match (a
 * dotted API field such as `terms.amount_fen` also lands on `terms`); the rest are listed with their field.
 */
export function apiProblems(e: unknown, locale: string, formFields: readonly string[] = []): FormProblems {
  const out: FormProblems = { fields: {}, general: [] }
  if (!(e instanceof ApiError)) {
    out.general.push(String(e))
    return out
  }
  const zh = locale.startsWith('zh')
  for (const f of e.fields) {
    const text = zh ? f.message_zh || f.message_en : f.message_en || f.message_zh
    const target = formFields.includes(f.field) ? f.field : formFields.find((name) => f.field.startsWith(`${name}.`))
    if (target && !out.fields[target]) out.fields[target] = text
    else out.general.push(`${f.field}：${text}`)
  }
  if (!e.fields.length) out.general.push(e.text(locale))
  return out
}

/** A fresh key for one submission of a form (`Idempotency-Key`): a retry of the same click is safe. */
export function newIdempotencyKey(): string {
  const c = globalThis.crypto as Crypto | undefined
  if (c && 'randomUUID' in c) return c.randomUUID()
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`
}
