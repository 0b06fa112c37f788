// Mediation (调解): the shapes the API returns (its schema documents them only as objects), the checks the step
// forms make before sending (the server checks again), the request bodies, amounts in yuan ⇄ fen, the rota,
// the path a mediation has taken, and which follow-up visits are due. Messages are i18n keys.

export interface Committee { id: number; name: string; kind: string; field: string; region_code: string; path: string; created_at: string }

export interface Mediator {
  id: number
  committee_id: number
  user_id: number | null
  name: string
  kind: string
  kind_zh: string
  rota_days: number[]
  active: boolean
  on_duty: boolean
  open_mediations: number
  concluded: number
  agreed: number
  success_rate: number | null
}

export interface Hearing { held_at: string; place: string; public: boolean; panel: string[]; statements: string }
export interface Session { held_at: string; place: string | null; online: boolean; attendees: string[]; minutes: string; positions: string }
export interface Term { text: string; amount_fen: number | null }
export interface Agreement { facts: string; terms: Term[]; performance_deadline: string; signed_at: string }
export type NextPath =
  | { path: 'multi_party'; committee_id: number; departments: number[] }
  | { path: 'referral'; forum: 'litigation' | 'arbitration'; body: string; note: string }
  | { path: 'leader_ownership'; leader_user_id: number }
export interface Failure { reason: string; next: NextPath }
export interface Judicial { court: string; applied_at: string; confirmed: boolean | null; result_note: string | null; decided_at: string | null }
export interface FollowUpVisit { visited_at: string; performed: boolean; settled: boolean; note: string }

export interface MediationDetail {
  committee_id: number
  mediator_user_id: number | null
  kind: string
  step: string
  linkage: { kind: string; handing_office: string } | null
  departments: number[]
  parties: { role: string; name: string }[]
  status: string
  hearing: Hearing | null
  sessions: Session[]
  agreement: Agreement | null
  failure: Failure | null
  judicial: Judicial | null
  follow_up: FollowUpVisit | null
}

export interface Mediation {
  id: number
  case_id: number
  case_number: string
  committee_id: number
  committee_name: string
  previous_id: number | null
  kind: string
  step: string
  status: string
  status_zh: string
  accepted_at: string
  concluded_at: string | null
  follow_up_due: string | null
  follow_up_overdue: boolean
  performed: boolean | null
  version: number
  detail: MediationDetail
}

export type Errors = Record<string, string>

/** The days of the month a mediator sits, in order (`5、15、25`); empty means every day. */
export function rotaDays(days: readonly number[]): string {
  return [...days].sort((a, b) => a - b).join('、')
}

/** Parses an amount typed in yuan (`3000`, `3,000.5`, `￥1200`) into fen; null when empty; NaN when not an amount. */
export function yuanToFen(text: string): number | null {
  const t = text.replace(/[,，\s¥￥元]/g, '')
  if (!t) return null
  if (!/^\d+(\.\d{1,2})?$/.test(t)) return Number.NaN
  const [whole, part = ''] = t.split('.')
  return Number(whole) * 100 + Number((part + '00').slice(0, 2))
}

/** Fen shown as yuan with two decimals (`3000.00`). */
export function fenToYuan(fen: number | null | undefined): string {
  if (fen == null) return ''
  const sign = fen < 0 ? '-' : ''
  const a = Math.abs(fen)
  return `${sign}${Math.floor(a / 100)}.${String(a % 100).padStart(2, '0')}`
}

/** A list typed one per line or separated by commas (attendees, panel members). */
export function splitList(text: string): string[] {
  return text.split(/[\n,，、;；]/).map((s) => s.trim()).filter(Boolean)
}

function text(errors: Errors, field: string, value: string, max: number, required = true) {
  const v = value.trim()
  if (required && !v) errors[field] = 'validation.required'
  else if (v.length > max) errors[field] = 'validation.tooLong'
}

/** A local date-time from the picker (`YYYY-MM-DDTHH:mm:ss`, Asia/Shanghai) as an ISO instant. */
export function shanghaiToIso(local: string): string {
  return new Date(`${local}+08:00`).toISOString()
}

export interface SessionForm { held_at: string; online: boolean; place: string; attendees: string; minutes: string; positions: string }
export const emptySession = (): SessionForm => ({ held_at: '', online: false, place: '', attendees: '', minutes: '', positions: '' })

export function validateSession(f: SessionForm): Errors {
  const e: Errors = {}
  if (!f.held_at) e.held_at = 'validation.required'
  if (!f.online) text(e, 'place', f.place, 200)
  const people = splitList(f.attendees)
  if (!people.length) e.attendees = 'validation.required'
  else if (people.length > 50) e.attendees = 'checks.tooMany'
  text(e, 'minutes', f.minutes, 20000)
  text(e, 'positions', f.positions, 10000, false)
  return e
}

export function sessionBody(f: SessionForm) {
  return {
    action: 'record_session',
    held_at: shanghaiToIso(f.held_at),
    online: f.online,
    place: f.online && !f.place.trim() ? null : f.place.trim(),
    attendees: splitList(f.attendees),
    minutes: f.minutes.trim(),
    positions: f.positions.trim(),
  }
}

export interface HearingForm { held_at: string; place: string; public: boolean; panel: string; statements: string }
export const emptyHearing = (): HearingForm => ({ held_at: '', place: '', public: false, panel: '', statements: '' })

export function validateHearing(f: HearingForm): Errors {
  const e: Errors = {}
  if (!f.held_at) e.held_at = 'validation.required'
  text(e, 'place', f.place, 200)
  const panel = splitList(f.panel)
  if (!panel.length) e.panel = 'validation.required'
  else if (panel.length > 20) e.panel = 'checks.tooMany'
  text(e, 'statements', f.statements, 10000)
  return e
}

export function hearingBody(f: HearingForm) {
  return { action: 'hold_hearing', held_at: shanghaiToIso(f.held_at), place: f.place.trim(), public: f.public, panel: splitList(f.panel), statements: f.statements.trim() }
}

export interface AgreementForm { facts: string; terms: { text: string; amount: string }[]; performance_deadline: string }
export const emptyAgreement = (): AgreementForm => ({ facts: '', terms: [{ text: '', amount: '' }], performance_deadline: '' })

/** `today` is the local date (`YYYY-MM-DD`): the deadline may not be before the agreement is signed. */
export function validateAgreement(f: AgreementForm, today: string): Errors {
  const e: Errors = {}
  text(e, 'facts', f.facts, 10000)
  const terms = f.terms.filter((t) => t.text.trim() || t.amount.trim())
  if (!terms.length) e.terms = 'validation.required'
  if (terms.length > 50) e.terms = 'checks.tooMany'
  f.terms.forEach((t, i) => {
    if (!t.text.trim() && t.amount.trim()) e[`terms.${i}.text`] = 'validation.required'
    else if (t.text.trim().length > 2000) e[`terms.${i}.text`] = 'validation.tooLong'
    const fen = yuanToFen(t.amount)
    if (fen !== null && (Number.isNaN(fen) || fen > 100_000_000_000)) e[`terms.${i}.amount`] = 'checks.amount'
  })
  if (!f.performance_deadline) e.performance_deadline = 'validation.required'
  else if (f.performance_deadline < today) e.performance_deadline = 'checks.deadlineBeforeToday'
  return e
}

export function agreementBody(f: AgreementForm) {
  return {
    action: 'conclude_agreement',
    facts: f.facts.trim(),
    terms: f.terms.filter((t) => t.text.trim()).map((t) => ({ text: t.text.trim(), amount_fen: yuanToFen(t.amount) })),
    performance_deadline: f.performance_deadline,
  }
}

export interface FailureForm {
  reason: string
  path: 'multi_party' | 'referral' | 'leader_ownership' | ''
  committee_id: number | null
  departments: number[]
  forum: 'litigation' | 'arbitration'
  body: string
  note: string
  leader_user_id: number | null
}
export const emptyFailure = (): FailureForm => ({ reason: '', path: '', committee_id: null, departments: [], forum: 'litigation', body: '', note: '', leader_user_id: null })

export function validateFailure(f: FailureForm): Errors {
  const e: Errors = {}
  text(e, 'reason', f.reason, 2000)
  if (!f.path) e.path = 'validation.required'
  if (f.path === 'multi_party') {
    if (!f.committee_id) e.committee_id = 'validation.required'
    if (!f.departments.length) e.departments = 'validation.required'
    else if (f.departments.length > 20) e.departments = 'checks.tooMany'
  }
  if (f.path === 'referral') {
    text(e, 'body', f.body, 200)
    text(e, 'note', f.note, 2000, false)
  }
  if (f.path === 'leader_ownership' && !f.leader_user_id) e.leader_user_id = 'validation.required'
  return e
}

export function failureBody(f: FailureForm) {
  const next =
    f.path === 'multi_party'
      ? { path: 'multi_party', committee_id: f.committee_id, departments: f.departments }
      : f.path === 'referral'
        ? { path: 'referral', forum: f.forum, body: f.body.trim(), note: f.note.trim() }
        : { path: 'leader_ownership', leader_user_id: f.leader_user_id }
  return { action: 'conclude_failure', reason: f.reason.trim(), next }
}

/** The stages of the path for a steps bar, and how far this mediation has come (index of the current one). */
export function pathStages(m: Pick<Mediation, 'status' | 'detail'>): { stages: string[]; active: number; failed: boolean } {
  const d = m.detail
  const failed = m.status === 'failed'
  const stages = ['accepted']
  if (d.hearing) stages.push('hearing')
  stages.push('sessions', failed ? 'failed' : 'agreed')
  if (!failed) {
    if (d.judicial) stages.push('judicial')
    stages.push('followed_up')
  }
  let reached = 'accepted'
  if (d.hearing) reached = 'hearing'
  if (d.sessions.length) reached = 'sessions'
  if (failed) reached = 'failed'
  if (m.status === 'agreed' || m.status === 'followed_up') reached = 'agreed'
  if (d.judicial && reached === 'agreed') reached = 'judicial'
  if (m.status === 'followed_up') reached = 'followed_up'
  return { stages, active: stages.indexOf(reached), failed }
}

/** Which step forms a mediation offers now (a mediator of its committee acts; others only read). */
export function offeredSteps(m: Pick<Mediation, 'status' | 'detail'>): string[] {
  const open = m.status === 'accepted' || m.status === 'in_progress'
  const out: string[] = []
  if (open) {
    out.push('hold_hearing', 'record_session')
    if (m.detail.sessions.length) out.push('conclude_agreement')
    out.push('conclude_failure')
  }
  if (m.status === 'agreed' || m.status === 'followed_up') {
    if (!m.detail.judicial) out.push('apply_judicial_confirmation')
    else if (m.detail.judicial.confirmed == null) out.push('record_judicial_result')
  }
  if (m.status === 'agreed') out.push('follow_up')
  return out
}

/** Agreed mediations whose follow-up visit is still to make, soonest first, with whether it is overdue. */
export function followUpsDue<T extends Pick<Mediation, 'status' | 'follow_up_due'>>(list: readonly T[], now: Date): (T & { overdue: boolean })[] {
  return list
    .filter((m) => m.status === 'agreed' && m.follow_up_due)
    .map((m) => ({ ...m, overdue: new Date(m.follow_up_due as string).getTime() < now.getTime() }))
    .sort((a, b) => String(a.follow_up_due).localeCompare(String(b.follow_up_due)))
}
