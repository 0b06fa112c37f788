// The petition screens' logic: the registration form's checks and body, the flags shown, cadences, and the
// month calendar of reception days.
import { describe, expect, it } from 'vitest'
import {
  addDays, cadenceText, defaultReceptionDay, emptyPetitionForm, entriesByDay, monthWeeks, offeredPetitionSteps, petitionBody, petitionFlags,
  validateCadence, validatePetition,
} from '../src/lib/petition'
import { apiProblems } from '../src/lib/forms'
import { ApiError } from '../src/api/client'

const valid = () => ({ ...emptyPetitionForm('370883107'), petitioner_name: '刘建国', subject: '补偿款', content: '要求兑付', region_code: '370883107001' })

describe('petition form', () => {
  it('needs a petitioner, a matter, its content and where it is', () => {
    expect(Object.keys(validatePetition(emptyPetitionForm())).sort()).toEqual(['content', 'petitioner_name', 'received_region', 'region_code', 'subject'])
    expect(validatePetition(valid())).toEqual({})
  })
  it('checks numbers and head counts', () => {
    expect(validatePetition({ ...valid(), phone: '1390537' })).toEqual({ phone: 'validation.phone' })
    expect(validatePetition({ ...valid(), id_number: '110105194912310021' })).toEqual({ id_number: 'validation.idNumber' })
    expect(validatePetition({ ...valid(), head_count: 0 })).toEqual({ head_count: 'checks.headCount' })
    expect(validatePetition({ ...valid(), head_count: 2.5 })).toEqual({ head_count: 'checks.headCount' })
    expect(validatePetition({ ...valid(), channel: 'letter', head_count: 3 })).toEqual({ head_count: 'checks.headCountVisit' })
  })
  it('sends the body the API takes', () => {
    const body = petitionBody({ ...valid(), channel: 'visit', head_count: 6, phone: '139 0537 8888', id_number: '11010519491231002x', reception_id: 4 })
    expect(body).toMatchObject({ channel: 'visit', head_count: 6, phone: '13905378888', id_number: '11010519491231002X', reception_id: 4, received_region: '370883107' })
    expect(petitionBody({ ...valid(), channel: 'letter', head_count: 5 }).head_count).toBe(1)
    expect(petitionBody(valid()).phone).toBeUndefined()
  })
})

describe('flags', () => {
  it('shows repeat, skip-level, group, sensitive and overdue in that order', () => {
    const all = { repeat: true, skip_level: true, group: true, sensitive: true, overdue: true, head_count: 6 }
    expect(petitionFlags(all).map((f) => f.key)).toEqual(['repeat', 'skip_level', 'group', 'sensitive', 'overdue'])
    expect(petitionFlags({ ...all, repeat: false, skip_level: false, group: false, sensitive: false, overdue: false })).toEqual([])
  })
})

describe('cadences', () => {
  it('describes and checks them', () => {
    expect(cadenceText({ every: 'weekly', weekday: 1 })).toEqual({ key: 'petition.cadenceWeekly', params: { weekday: 1 } })
    expect(cadenceText({ every: 'monthly', day: 15 })).toEqual({ key: 'petition.cadenceMonthly', params: { day: 15 } })
    expect(cadenceText(null).key).toBe('petition.cadenceUnknown')
    expect(validateCadence({ every: 'weekly', weekday: 8 })).toBe('checks.range')
    expect(validateCadence({ every: 'monthly', day: 0 })).toBe('checks.range')
    expect(validateCadence({ every: 'daily' })).toBeNull()
  })
})

describe('the month calendar', () => {
  it('lays a month out in whole weeks from Monday', () => {
    const weeks = monthWeeks(2026, 11) // 1 November 2026 is a Sunday
    expect(weeks[0]).toEqual(['2026-10-26', '2026-10-27', '2026-10-28', '2026-10-29', '2026-10-30', '2026-10-31', '2026-11-01'])
    expect(weeks[weeks.length - 1][0]).toBe('2026-11-30')
    expect(weeks.length).toBe(6)
    expect(monthWeeks(2027, 2).length).toBe(4) // February 2027 starts on a Monday and has 28 days
    expect(monthWeeks(2028, 2).flat()).toContain('2028-02-29')
  })
  it('adds days across months and years', () => {
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01')
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28')
  })
  it('groups entries by day and picks the day to act on', () => {
    const grouped = entriesByDay([{ day: '2026-11-23', n: 1 }, { day: '2026-11-30', n: 2 }, { day: '2026-11-23', n: 3 }])
    expect(grouped['2026-11-23'].map((e) => e.n)).toEqual([1, 3])
    expect(defaultReceptionDay(['2026-11-16', '2026-11-30', '2026-11-23'], '2026-11-23')).toBe('2026-11-23')
    expect(defaultReceptionDay(['2026-11-16', '2026-11-30'], '2026-11-25')).toBe('2026-11-16')
    expect(defaultReceptionDay(['2026-11-30'], '2026-11-25')).toBe('2026-11-30')
    expect(defaultReceptionDay([], '2026-11-25')).toBeNull()
  })
})

describe('API field errors on a form', () => {
  it('lands on the named field (or its parent) in the interface’s language, the rest listed', () => {
    const e = new ApiError(422, 'validation', '', '', [
      { field: 'day', code: 'not_a_reception_day', message_zh: '该日不是接访日', message_en: 'that day is not a reception day' },
      { field: 'terms.amount_fen', code: 'range', message_zh: '超出允许范围', message_en: 'out of range' },
      { field: 'body', code: 'format', message_zh: '无法识别', message_en: 'unrecognised' },
    ])
    expect(apiProblems(e, 'zh-CN', ['day', 'terms'])).toEqual({ fields: { day: '该日不是接访日', terms: '超出允许范围' }, general: ['body：无法识别'] })
    expect(apiProblems(e, 'en', ['day']).fields.day).toBe('that day is not a reception day')
    expect(apiProblems(new ApiError(409, 'conflict', '已被更新', 'changed'), 'zh-CN').general).toEqual(['已被更新'])
  })
})

describe('petition steps offered', () => {
  const p = (status: string, detail: Record<string, unknown> = {}, feedback_due: string | null = null) => ({ status, detail, feedback_due })
  it('follows the statutory order', () => {
    expect(offeredPetitionSteps(p('registered'), [])).toEqual(['accept', 'not_accept'])
    expect(offeredPetitionSteps(p('accepted', { extended_days: 0 }, '2026-11-25T09:30:00Z'), [])).toEqual(['answer', 'request_extension', 'give_feedback'])
    expect(offeredPetitionSteps(p('accepted', { extended_days: 30 }), [])).toEqual(['answer'])
    expect(offeredPetitionSteps(p('answered'), [])).toEqual([])
  })
  it('lets only a supervisor decide a pending extension', () => {
    const pending = p('accepted', { pending_extension: { days: 30 } })
    expect(offeredPetitionSteps(pending, ['accept_cases'])).toEqual(['answer'])
    expect(offeredPetitionSteps(pending, ['supervise_cases'])).toEqual(['answer', 'approve_extension', 'deny_extension'])
  })
})
