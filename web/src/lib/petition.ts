// Petitions (信访): the shapes the API returns, the registration form's checks and body, the flags a petition
// carries, reception cadences, and the month calendar of leaders' reception days. Messages are i18n keys.
import { isPhoneNumber, isResidentIdNumber } from './validation'

export interface Petition {
  id: number
  case_id: number | null
  reception_id: number | null
  channel: string
  head_count: number
  petitioner_name: string
  phone: string | null
  id_number: string | null
  sensitive: boolean
  category: string | null
  subject: string
  content: string
  region_code: string
  received_region: string
  repeat: boolean
  skip_level: boolean
  group: boolean
  status: string
  status_zh: string
  current_due: string | null
  overdue: boolean
  feedback_due: string | null
  feedback_overdue: boolean
  version: number
  registered_at: string
  detail: Record<string, unknown>
}

export interface Schedule { id: number; leader_user_id: number; region_code: string; path: string; place: string; cadence: string; valid_from: string; valid_to: string }
export interface Appointment { id: number; schedule_id: number; day: string; petitioner: string; matter: string }
export interface Reception { id: number; schedule_id: number; leader_user_id: number; day: string; path: string; notes: string; created_at: string }
export interface CalendarEntry { day: string; schedule_id: number; place: string; region_code: string; appointments: Appointment[]; receptions: Reception[] }
export interface Leader { id: number; display_name: string }

export interface Milestone { title: string; due: string; done_at?: string | null; note?: string | null }
export interface Backlog {
  id: number
  petition_id: number
  leader_user_id: number
  status: string
  status_zh: string
  progress_percent: number
  version: number
  opened_at: string
  closed_at: string | null
  detail: { plan?: string; units?: string[]; milestones?: Milestone[]; commitment?: { signed_on: string; signer: string; text: string } | null; [k: string]: unknown }
}

export const CHANNELS = ['visit', 'letter', 'online', 'phone'] as const

export interface PetitionForm {
  channel: string
  head_count: number
  petitioner_name: string
  phone: string
  id_number: string
  sensitive: boolean
  subject: string
  content: string
  region_code: string
  received_region: string
  reception_id: number | null
}

export function emptyPetitionForm(received_region = ''): PetitionForm {
  return { channel: 'visit', head_count: 1, petitioner_name: '', phone: '', id_number: '', sensitive: false, subject: '', content: '', region_code: '', received_region, reception_id: null }
}

export type Errors = Record<string, string>

/** Field → i18n key of the problem; empty when the form may be sent. */
export function validatePetition(f: PetitionForm): Errors {
  const e: Errors = {}
  if (!CHANNELS.includes(f.channel as (typeof CHANNELS)[number])) e.channel = 'validation.required'
  if (!Number.isInteger(f.head_count) || f.head_count < 1) e.head_count = 'checks.headCount'
  else if (f.head_count > 1 && f.channel !== 'visit') e.head_count = 'checks.headCountVisit'
  else if (f.head_count > 10000) e.head_count = 'checks.headCount'
  const name = f.petitioner_name.trim()
  if (!name) e.petitioner_name = 'validation.required'
  else if (name.length > 50) e.petitioner_name = 'validation.tooLong'
  if (f.phone.trim() && !isPhoneNumber(f.phone)) e.phone = 'validation.phone'
  if (f.id_number.trim() && !isResidentIdNumber(f.id_number)) e.id_number = 'validation.idNumber'
  const subject = f.subject.trim()
  if (!subject) e.subject = 'validation.required'
  else if (subject.length > 200) e.subject = 'validation.tooLong'
  if (!f.content.trim()) e.content = 'validation.required'
  else if (f.content.length > 10000) e.content = 'validation.tooLong'
  if (!f.region_code) e.region_code = 'validation.required'
  if (!f.received_region) e.received_region = 'validation.required'
  return e
}

/** The request body of `POST /api/v1/petitions` for a valid form. */
export function petitionBody(f: PetitionForm) {
  return {
    channel: f.channel,
    head_count: f.channel === 'visit' ? f.head_count : 1,
    petitioner_name: f.petitioner_name.trim(),
    phone: f.phone.replace(/[\s-]/g, '') || undefined,
    id_number: f.id_number.trim().toUpperCase() || undefined,
    sensitive: f.sensitive,
    subject: f.subject.trim(),
    content: f.content.trim(),
    region_code: f.region_code,
    received_region: f.received_region,
    reception_id: f.reception_id ?? undefined,
  }
}

/** The flags to show on a petition, in order: repeat, skip-level, group (with head count), sensitive, overdue. */
export function petitionFlags(p: Pick<Petition, 'repeat' | 'skip_level' | 'group' | 'sensitive' | 'overdue' | 'head_count'>): { key: string; type: 'danger' | 'warning' | 'info' }[] {
  const out: { key: string; type: 'danger' | 'warning' | 'info' }[] = []
  if (p.repeat) out.push({ key: 'repeat', type: 'warning' })
  if (p.skip_level) out.push({ key: 'skip_level', type: 'danger' })
  if (p.group) out.push({ key: 'group', type: 'danger' })
  if (p.sensitive) out.push({ key: 'sensitive', type: 'info' })
  if (p.overdue) out.push({ key: 'overdue', type: 'danger' })
  return out
}

export type Cadence = { every: 'monthly'; day: number } | { every: 'weekly'; weekday: number } | { every: 'daily' }

export function parseCadence(json: string): Cadence | null {
  try {
    const c = JSON.parse(json)
    return c && typeof c.every === 'string' ? (c as Cadence) : null
  } catch {
    return null
  }
}

/** The i18n key and parameters that describe a cadence (每周一 / 每月15日 / 工作日每天). */
export function cadenceText(c: Cadence | null): { key: string; params: Record<string, string | number> } {
  if (!c) return { key: 'petition.cadenceUnknown', params: {} }
  if (c.every === 'monthly') return { key: 'petition.cadenceMonthly', params: { day: c.day } }
  if (c.every === 'weekly') return { key: 'petition.cadenceWeekly', params: { weekday: c.weekday } }
  return { key: 'petition.cadenceDaily', params: {} }
}

export function validateCadence(c: Cadence): string | null {
  if (c.every === 'monthly' && !(Number.isInteger(c.day) && c.day >= 1 && c.day <= 31)) return 'checks.range'
  if (c.every === 'weekly' && !(Number.isInteger(c.weekday) && c.weekday >= 1 && c.weekday <= 7)) return 'checks.range'
  return null
}

const pad = (n: number) => String(n).padStart(2, '0')
export const isoDay = (y: number, m: number, d: number) => `${y}-${pad(m)}-${pad(d)}`

/** Adds days to a `YYYY-MM-DD` date (calendar arithmetic in UTC, so no zone can shift it). */
export function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`)
  d.setUTCDate(d.getUTCDate() + n)
  return d.toISOString().slice(0, 10)
}

/**
 * The weeks (Monday first) that show a month: each a row of seven `YYYY-MM-DD` days, spilling into the months
 * around it so the rows are whole. `month` is 1–12.
 */
export function monthWeeks(year: number, month: number): string[][] {
  const first = isoDay(year, month, 1)
  const weekday = (new Date(`${first}T00:00:00Z`).getUTCDay() + 6) % 7 // 0 = Monday
  let day = addDays(first, -weekday)
  const last = isoDay(year, month, new Date(Date.UTC(year, month, 0)).getUTCDate())
  const weeks: string[][] = []
  while (day <= last) {
    const week: string[] = []
    for (let i = 0; i < 7; i++) {
      week.push(day)
      day = addDays(day, 1)
    }
    weeks.push(week)
  }
  return weeks
}

/** Calendar entries by day, each day's entries in the order given. */
export function entriesByDay<T extends { day: string }>(entries: readonly T[]): Record<string, T[]> {
  const out: Record<string, T[]> = {}
  for (const e of entries) (out[e.day] ??= []).push(e)
  return out
}

/** The reception day to act on by default: today's if there is one, else the latest before today, else the next one. */
export function defaultReceptionDay(days: readonly string[], today: string): string | null {
  const sorted = [...new Set(days)].sort()
  if (!sorted.length) return null
  if (sorted.includes(today)) return today
  const before = sorted.filter((d) => d < today)
  return before.length ? before[before.length - 1] : sorted[0]
}

/** The statutory steps a petition offers now (the server decides; this only hides what cannot apply). */
export function offeredPetitionSteps(p: Pick<Petition, 'status' | 'feedback_due' | 'detail'>, permissions: readonly string[]): string[] {
  const out: string[] = []
  const d = p.detail as { pending_extension?: unknown; extended_days?: number }
  if (p.status === 'registered') out.push('accept', 'not_accept')
  if (p.status === 'accepted') {
    out.push('answer')
    if (d.pending_extension) {
      if (permissions.includes('supervise_cases')) out.push('approve_extension', 'deny_extension')
    } else if (!d.extended_days) out.push('request_extension')
  }
  if (p.feedback_due) out.push('give_feedback')
  return out
}
