import { describe, expect, it } from 'vitest'
import { clusterRadius, daysIn, percent, presetRange, rank, scaleColour, trendBy, type RateRow } from '../src/lib/dashboard'

function row(key: string, name: string, rate: number | null, cohort = 1): RateRow {
  const r = { numerator: 0, denominator: rate === null ? 0 : 1, rate }
  return {
    key,
    name,
    rates: {
      from: '2026-11-01',
      to: '2026-11-23',
      computed_at: '',
      counts: { cohort } as RateRow['rates']['counts'],
      completion: r,
      on_time: r,
      response: r,
      satisfaction: r,
      resolution: r,
    },
  }
}

describe('dashboard helpers', () => {
  it('computes the preset periods ending today', () => {
    expect(presetRange('today', '2026-11-23')).toEqual({ from: '2026-11-23', to: '2026-11-23' })
    expect(presetRange('7d', '2026-11-23')).toEqual({ from: '2026-11-17', to: '2026-11-23' })
    expect(presetRange('30d', '2026-03-05')).toEqual({ from: '2026-02-04', to: '2026-03-05' })
    expect(presetRange('month', '2026-11-23')).toEqual({ from: '2026-11-01', to: '2026-11-23' })
    expect(presetRange('quarter', '2026-11-23')).toEqual({ from: '2026-10-01', to: '2026-11-23' })
    expect(presetRange('year', '2026-01-01')).toEqual({ from: '2026-01-01', to: '2026-01-01' })
  })

  it('splits a trend by day up to 62 days, by month beyond', () => {
    expect(daysIn('2026-11-01', '2026-11-30')).toBe(30)
    expect(trendBy('2026-10-01', '2026-12-01')).toBe('day')
    expect(trendBy('2026-01-01', '2026-11-23')).toBe('month')
  })

  it('formats rates as percentages and an empty rate as a dash', () => {
    expect(percent(0.98765)).toBe('98.8%')
    expect(percent(1)).toBe('100.0%')
    expect(percent(0)).toBe('0.0%')
    expect(percent(null)).toBe('—')
  })

  it('ranks best first, with nothing counted last', () => {
    const rows = [row('a', '甲', 0.5), row('b', '乙', null), row('c', '丙', 0.9), row('d', '丁', 0.5)]
    const ranked = rank(rows, 'completion').map((r) => r.key)
    expect(ranked[0]).toBe('c')
    expect(ranked[3]).toBe('b')
    expect(new Set(ranked.slice(1, 3))).toEqual(new Set(['a', 'd']))
    expect(rank([row('x', 'x', 1, 3), row('y', 'y', 1, 9)], 'cohort').map((r) => r.key)).toEqual(['y', 'x'])
  })

  it('colours good green and bad red, and turns round for load', () => {
    expect(scaleColour(1, 0, 1)).toBe('rgb(22, 163, 74)')
    expect(scaleColour(0, 0, 1)).toBe('rgb(220, 38, 38)')
    expect(scaleColour(10, 0, 10, false)).toBe('rgb(220, 38, 38)')
    expect(scaleColour(null, 0, 1)).toBe('#cbd5e1')
    expect(scaleColour(5, 5, 5)).toBe('rgb(22, 163, 74)')
  })

  it('grows cluster markers with the count, within bounds', () => {
    expect(clusterRadius(1)).toBe(6)
    expect(clusterRadius(10)).toBeLessThan(clusterRadius(1000))
    expect(clusterRadius(10_000_000)).toBe(30)
  })
})
