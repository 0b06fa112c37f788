import { describe, expect, it } from 'vitest'
import { emptyIntakeForm, intakeBody, isPhoneNumber, isResidentIdNumber, lookupKind, validateIntake, validateReason } from '../src/lib/validation'
import { offeredActions, validateAction, ACTIONS } from '../src/lib/actions'

describe('intake form validation', () => {
  it('checks resident ID numbers by their GB 11643 check digit', () => {
    expect(isResidentIdNumber('11010519491231002X')).toBe(true)
    expect(isResidentIdNumber('11010519491231002x')).toBe(true)
    expect(isResidentIdNumber('110105194912310021')).toBe(false)
    expect(isResidentIdNumber('1101051949123100')).toBe(false)
  })

  it('knows mobile and landline numbers', () => {
    expect(isPhoneNumber('13812345678')).toBe(true)
    expect(isPhoneNumber('0537-5123456')).toBe(true)
    expect(isPhoneNumber('12812345678')).toBe(false)
    expect(lookupKind('13812345678')).toBe('phone')
    expect(lookupKind('11010519491231002X')).toBe('id_number')
    expect(lookupKind('张三')).toBeNull()
  })

  it('requires a title, a description and a location or address', () => {
    const errors = validateIntake(emptyIntakeForm())
    expect(errors).toEqual({ title: 'validation.required', description: 'validation.required', location: 'validation.locationRequired' })
  })

  it('accepts a located form and flags bad party numbers field by field', () => {
    const form = emptyIntakeForm()
    Object.assign(form, { title: '邻里噪音纠纷', description: '楼上夜间装修', lng: 116.8, lat: 35.4 })
    expect(validateIntake(form)).toEqual({})
    form.parties[0] = { role: 'reporter', name: '', phone: '123', id_number: '110105194912310021' }
    expect(validateIntake(form)).toEqual({
      'parties.0.phone': 'validation.phone',
      'parties.0.id_number': 'validation.idNumber',
      'parties.0.name': 'validation.partyName',
    })
  })

  it('builds the request body: trimmed, WGS-84, empty parties left out', () => {
    const form = emptyIntakeForm()
    Object.assign(form, { title: ' 漏水 ', description: '楼上漏水', lng: 116.8, lat: 35.4, category: 'dispute.neighbour' })
    form.parties.push({ role: 'respondent', name: '李四', phone: '', id_number: '11010519491231002x' })
    const body = intakeBody(form)
    expect(body.title).toBe('漏水')
    expect(body.coord_system).toBe('wgs84')
    expect(body.parties).toEqual([{ role: 'respondent', name: '李四', phone: undefined, id_number: '11010519491231002X' }])
  })

  it('wants real reasons', () => {
    expect(validateReason('')).toBe('validation.required')
    expect(validateReason('不对')).toBe('validation.reasonTooShort')
    expect(validateReason('属民间纠纷，非治安案件')).toBeNull()
  })
})

describe('actions offered on a case', () => {
  it('offers the handler claim on a dispatched case and resolve once in hand', () => {
    expect(offeredActions({ status: 'dispatched' }, ['handle_cases'])).toEqual(['claim', 'return', 'add_note'])
    expect(offeredActions({ status: 'in_progress' }, ['handle_cases'])).toContain('resolve')
  })
  it('offers the dispatcher rulings on returns and reviews, nothing on a closed case but archive and reopen', () => {
    const d = ['accept_cases', 'dispatch_cases', 'supervise_cases']
    expect(offeredActions({ status: 'returned' }, d)).toContain('rule_on_return_redispatch')
    expect(offeredActions({ status: 'resolved' }, d)).toContain('approve_review')
    expect(offeredActions({ status: 'closed' }, d)).toEqual(['archive', 'reopen'])
  })
  it('offers a clerk nothing beyond accepting, rejecting and notes', () => {
    expect(offeredActions({ status: 'registered' }, ['accept_cases', 'register_cases'])).toEqual(['accept', 'reject', 'add_note'])
  })
  it('checks an action form: required fields, reason length, day counts', () => {
    expect(validateAction(ACTIONS.return, { reason: '' })).toEqual({ reason: 'validation.required' })
    expect(validateAction(ACTIONS.return, { reason: '不对' })).toEqual({ reason: 'validation.reasonTooShort' })
    expect(validateAction(ACTIONS.request_extension, { working_days: 0, reason: '等待物业监控' })).toEqual({ working_days: 'validation.required' })
    expect(validateAction(ACTIONS.dispatch, { lead: 'dept:95', assisting: [] })).toEqual({})
  })
})
