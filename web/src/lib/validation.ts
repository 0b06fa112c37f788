// Checks the intake form makes before sending (the server checks again): what is required, lengths, and the
// formats of phone and ID numbers (GB 11643 check digit). Messages are i18n keys.

/** A mainland mobile (11 digits from 1[3-9]) or a landline with area code (0xx-xxxxxxx). */
export function isPhoneNumber(text: string): boolean {
  const t = text.replace(/[\s-]/g, '')
  return /^1[3-9]\d{9}$/.test(t) || /^0\d{2,3}\d{7,8}$/.test(t)
}

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
const CHECK = '10X98765432'

/** An 18-character resident ID number whose check character (GB 11643) matches. */
export function isResidentIdNumber(text: string): boolean {
  const t = text.trim().toUpperCase()
  if (!/^\d{17}[\dX]$/.test(t)) return false
  let sum = 0
  for (let i = 0; i < 17; i++) sum += Number(t[i]) * WEIGHTS[i]
  return CHECK[sum % 11] === t[17]
}

/** What kind of number a lookup box holds, or null when it is neither. */
export function lookupKind(text: string): 'phone' | 'id_number' | null {
  if (isResidentIdNumber(text)) return 'id_number'
  if (isPhoneNumber(text)) return 'phone'
  return null
}

export interface PartyForm {
  role: string
  name: string
  phone: string
  id_number: string
}

export interface IntakeForm {
  kind: string
  channel: string
  urgency: string
  category: string
  title: string
  description: string
  address: string
  lng: number | null
  lat: number | null
  region_code: string
  parties: PartyForm[]
}

export function emptyIntakeForm(): IntakeForm {
  return {
    kind: 'dispute',
    channel: 'walk_in',
    urgency: 'normal',
    category: '',
    title: '',
    description: '',
    address: '',
    lng: null,
    lat: null,
    region_code: '',
    parties: [{ role: 'reporter', name: '', phone: '', id_number: '' }],
  }
}

export type FieldErrors = Record<string, string>

/** Field → i18n key of the problem; empty when the form may be sent. */
export function validateIntake(form: IntakeForm): FieldErrors {
  const errors: FieldErrors = {}
  if (!form.kind) errors.kind = 'validation.required'
  if (!form.channel) errors.channel = 'validation.required'
  const title = form.title.trim()
  if (!title) errors.title = 'validation.required'
  else if (title.length > 100) errors.title = 'validation.tooLong'
  if (!form.description.trim()) errors.description = 'validation.required'
  else if (form.description.length > 5000) errors.description = 'validation.tooLong'
  const located = form.lng != null && form.lat != null
  if (!located && !form.address.trim() && !form.region_code)
    errors.location = 'validation.locationRequired'
  form.parties.forEach((p, i) => {
    if (p.phone.trim() && !isPhoneNumber(p.phone)) errors[`parties.${i}.phone`] = 'validation.phone'
    if (p.id_number.trim() && !isResidentIdNumber(p.id_number))
      errors[`parties.${i}.id_number`] = 'validation.idNumber'
    if (!p.name.trim() && (p.phone.trim() || p.id_number.trim()))
      errors[`parties.${i}.name`] = 'validation.partyName'
  })
  return errors
}

/** The request body of `POST /api/v1/cases` for a valid form. */
export function intakeBody(form: IntakeForm) {
  return {
    kind: form.kind,
    channel: form.channel,
    urgency: form.urgency || undefined,
    category: form.category || undefined,
    title: form.title.trim(),
    description: form.description.trim(),
    address: form.address.trim(),
    lng: form.lng ?? undefined,
    lat: form.lat ?? undefined,
    coord_system: form.lng != null ? 'wgs84' : undefined,
    region_code: form.region_code || undefined,
    parties: form.parties
      .filter((p) => p.name.trim() || p.phone.trim() || p.id_number.trim())
      .map((p) => ({
        role: p.role,
        name: p.name.trim(),
        phone: p.phone.trim() || undefined,
        id_number: p.id_number.trim().toUpperCase() || undefined,
      })),
  }
}

/** A reason is required and meaningful (returns, rejections, escalations, reopenings). */
export function validateReason(text: string): string | null {
  const t = text.trim()
  if (!t) return 'validation.required'
  if (t.length < 4) return 'validation.reasonTooShort'
  if (t.length > 1000) return 'validation.tooLong'
  return null
}
