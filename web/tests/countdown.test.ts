import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { deadlineState, levelTagType, splitMinutes } from '../src/lib/countdown'
import DeadlineTag from '../src/components/DeadlineTag.vue'
import ElementPlus from 'element-plus'

const now = new Date('2026-11-23T02:00:00Z')

describe('deadline countdowns', () => {
  it.each([
    ['2026-11-30T02:00:00Z', 'ok'],
    ['2026-11-24T02:01:00Z', 'ok'],
    ['2026-11-24T02:00:00Z', 'due_soon'],
    ['2026-11-23T02:30:00Z', 'due_soon'],
    ['2026-11-23T02:00:00Z', 'due_soon'],
    ['2026-11-23T01:59:00Z', 'overdue'],
    ['2026-11-01T00:00:00Z', 'overdue'],
  ])('due %s is %s', (due, level) => {
    expect(deadlineState(due, now).level).toBe(level)
  })

  it('has no level without a deadline, and none of urgency once done or paused', () => {
    expect(deadlineState(null, now)).toEqual({ level: 'none', minutesLeft: null })
    expect(deadlineState('not a date', now).level).toBe('none')
    expect(deadlineState('2026-11-01T00:00:00Z', now, { done: true }).level).toBe('ok')
    expect(deadlineState('2026-11-01T00:00:00Z', now, { paused: true }).level).toBe('paused')
  })

  it('colours red for overdue and yellow for due soon', () => {
    expect(levelTagType('overdue')).toBe('danger')
    expect(levelTagType('due_soon')).toBe('warning')
    expect(levelTagType('ok')).toBe('success')
  })

  it('splits spans into days, hours and minutes', () => {
    expect(splitMinutes(1 * 1440 + 3 * 60 + 5)).toEqual({ days: 1, hours: 3, minutes: 5 })
    expect(splitMinutes(-90)).toEqual({ days: 0, hours: 1, minutes: 30 })
  })

  it('renders the tag with its level for a due-soon and an overdue deadline', () => {
    const soon = new Date(Date.now() + 3 * 3600 * 1000).toISOString()
    const late = new Date(Date.now() - 26 * 3600 * 1000).toISOString()
    const a = mount(DeadlineTag, { props: { due: soon }, global: { plugins: [ElementPlus] } })
    expect(a.find('[data-level]').attributes('data-level')).toBe('due_soon')
    expect(a.text()).toContain('剩余')
    const b = mount(DeadlineTag, { props: { due: late }, global: { plugins: [ElementPlus] } })
    expect(b.find('[data-level]').attributes('data-level')).toBe('overdue')
    expect(b.text()).toContain('已超期 1天2小时')
  })
})
