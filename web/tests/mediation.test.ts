// The mediation screens' logic: amounts in yuan ⇄ fen, the rota, the step forms' checks and bodies, the path
// a mediation has taken, the steps it offers, and which follow-up visits are due.
import { describe, expect, it } from 'vitest'
import {
  agreementBody, emptyAgreement, emptyFailure, emptySession, failureBody, fenToYuan, followUpsDue, offeredSteps, pathStages,
  rotaDays, sessionBody, shanghaiToIso, splitList, validateAgreement, validateFailure, validateSession, yuanToFen,
  type MediationDetail,
} from '../src/lib/mediation'

const detail = (over: Partial<MediationDetail> = {}): MediationDetail => ({
  committee_id: 1, mediator_user_id: 9, kind: 'people', step: 'initial', linkage: null, departments: [], parties: [],
  status: 'accepted', hearing: null, sessions: [], agreement: null, failure: null, judicial: null, follow_up: null, ...over,
})
const session = { held_at: '2026-11-23T01:30:00Z', place: '调解室', online: false, attendees: ['甲'], minutes: '记录', positions: '' }

describe('amounts', () => {
  it('reads yuan as typed into fen', () => {
    expect(yuanToFen('')).toBeNull()
    expect(yuanToFen('3000')).toBe(300000)
    expect(yuanToFen('3,000.5')).toBe(300050)
    expect(yuanToFen('￥1200.05元')).toBe(120005)
    expect(yuanToFen('一千二')).toBeNaN()
    expect(yuanToFen('1.234')).toBeNaN()
    expect(yuanToFen('-5')).toBeNaN()
  })
  it('shows fen as yuan with two decimals', () => {
    expect(fenToYuan(300000)).toBe('3000.00')
    expect(fenToYuan(5)).toBe('0.05')
    expect(fenToYuan(null)).toBe('')
  })
})

describe('rota and lists', () => {
  it('orders the days of the month', () => expect(rotaDays([25, 5, 15])).toBe('5、15、25'))
  it('splits names on commas, 顿号 and lines', () => expect(splitList('刘建国，王德胜、 调解员\n司法所,')).toEqual(['刘建国', '王德胜', '调解员', '司法所']))
  it('reads the picker’s local time as Asia/Shanghai', () => expect(shanghaiToIso('2026-11-23T09:30:00')).toBe('2026-11-23T01:30:00.000Z'))
})

describe('session form', () => {
  it('needs time, place (unless online), attendees and minutes', () => {
    expect(Object.keys(validateSession(emptySession())).sort()).toEqual(['attendees', 'held_at', 'minutes', 'place'])
    const online = { ...emptySession(), held_at: '2026-11-23T09:30:00', online: true, attendees: '甲、乙', minutes: '记录' }
    expect(validateSession(online)).toEqual({})
    expect(sessionBody(online)).toMatchObject({ action: 'record_session', online: true, place: null, attendees: ['甲', '乙'], held_at: '2026-11-23T01:30:00.000Z' })
  })
})

describe('agreement form', () => {
  const today = '2026-11-23'
  it('names each problem: facts, a term without text, a bad amount, a past deadline', () => {
    const f = { facts: '', terms: [{ text: '', amount: '100' }, { text: '赔偿', amount: 'abc' }], performance_deadline: '2026-11-22' }
    expect(validateAgreement(f, today)).toEqual({
      facts: 'validation.required', 'terms.0.text': 'validation.required', 'terms.1.amount': 'checks.amount',
      performance_deadline: 'checks.deadlineBeforeToday',
    })
    expect(validateAgreement(emptyAgreement(), today)).toMatchObject({ terms: 'validation.required', performance_deadline: 'validation.required' })
  })
  it('sends the terms with amounts in fen, dropping empty rows', () => {
    const f = { facts: ' 事实 ', terms: [{ text: '恢复地界', amount: '' }, { text: '补偿', amount: '3000' }, { text: '', amount: '' }], performance_deadline: today }
    expect(validateAgreement(f, today)).toEqual({})
    expect(agreementBody(f)).toEqual({
      action: 'conclude_agreement', facts: '事实', performance_deadline: today,
      terms: [{ text: '恢复地界', amount_fen: null }, { text: '补偿', amount_fen: 300000 }],
    })
  })
})

describe('failure form', () => {
  it('asks for what the next path needs', () => {
    expect(validateFailure({ ...emptyFailure(), reason: '分歧大', path: 'multi_party' })).toEqual({ committee_id: 'validation.required', departments: 'validation.required' })
    expect(validateFailure({ ...emptyFailure(), reason: '分歧大', path: 'referral' })).toEqual({ body: 'validation.required' })
    expect(validateFailure({ ...emptyFailure(), reason: '分歧大', path: 'leader_ownership' })).toEqual({ leader_user_id: 'validation.required' })
    expect(validateFailure(emptyFailure())).toEqual({ reason: 'validation.required', path: 'validation.required' })
  })
  it('builds the tagged next path', () => {
    const f = { ...emptyFailure(), reason: '分歧大', path: 'multi_party' as const, committee_id: 2, departments: [3, 4] }
    expect(failureBody(f)).toEqual({ action: 'conclude_failure', reason: '分歧大', next: { path: 'multi_party', committee_id: 2, departments: [3, 4] } })
  })
})

describe('the path and the steps offered', () => {
  it('follows an accepted mediation to its follow-up', () => {
    expect(pathStages({ status: 'accepted', detail: detail() })).toEqual({ stages: ['accepted', 'sessions', 'agreed', 'followed_up'], active: 0, failed: false })
    const agreed = detail({ sessions: [session], agreement: { facts: '', terms: [], performance_deadline: '2026-12-31', signed_at: '' } })
    expect(pathStages({ status: 'agreed', detail: agreed }).active).toBe(2)
    const confirmed = { ...agreed, judicial: { court: '法院', applied_at: '', confirmed: true, result_note: '', decided_at: '' } }
    expect(pathStages({ status: 'followed_up', detail: confirmed })).toEqual({ stages: ['accepted', 'sessions', 'agreed', 'judicial', 'followed_up'], active: 4, failed: false })
  })
  it('ends a failed one at the failure', () => {
    const failed = detail({ hearing: { held_at: '', place: '', public: false, panel: [], statements: '' }, sessions: [session] })
    expect(pathStages({ status: 'failed', detail: failed })).toEqual({ stages: ['accepted', 'hearing', 'sessions', 'failed'], active: 3, failed: true })
  })
  it('offers an agreement only after a session, and confirmation and follow-up after it', () => {
    expect(offeredSteps({ status: 'accepted', detail: detail() })).toEqual(['hold_hearing', 'record_session', 'conclude_failure'])
    expect(offeredSteps({ status: 'in_progress', detail: detail({ sessions: [session] }) })).toContain('conclude_agreement')
    expect(offeredSteps({ status: 'agreed', detail: detail() })).toEqual(['apply_judicial_confirmation', 'follow_up'])
    expect(offeredSteps({ status: 'failed', detail: detail() })).toEqual([])
  })
})

describe('follow-ups due', () => {
  it('lists agreed mediations soonest first and flags the overdue', () => {
    const now = new Date('2026-12-01T00:00:00Z')
    const list = [
      { id: 1, status: 'agreed', follow_up_due: '2026-12-20T16:00:00Z' },
      { id: 2, status: 'followed_up', follow_up_due: '2026-11-25T16:00:00Z' },
      { id: 3, status: 'agreed', follow_up_due: '2026-11-30T16:00:00Z' },
      { id: 4, status: 'in_progress', follow_up_due: null },
    ]
    expect(followUpsDue(list, now).map((m) => [m.id, m.overdue])).toEqual([[3, true], [1, false]])
  })
})
