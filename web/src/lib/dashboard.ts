// The leader's dashboard: the shapes of the rates the server computes, the periods a leader picks, and the
// small pure helpers the dashboard and the big screen share (percentages, rankings, map colours).

export interface Rate {
  numerator: number
  denominator: number
  rate: number | null
}

export interface RateCounts {
  received: number
  rejected: number
  merged: number
  cohort: number
  completion_numerator: number
  on_time_numerator: number
  on_time_denominator: number
  response_numerator: number
  response_denominator: number
  satisfaction_numerator: number
  satisfaction_denominator: number
  unreachable: number
  declined: number
  resolution_numerator: number
  resolution_denominator: number
}

export interface Rates {
  from: string
  to: string
  computed_at: string
  counts: RateCounts
  completion: Rate
  on_time: Rate
  response: Rate
  satisfaction: Rate
  resolution: Rate
}

export type Breakdown = 'month' | 'day' | 'region' | 'grid' | 'category' | 'department'
export interface RateRow {
  key: string
  name: string
  rates: Rates
}
export interface RateBreakdown {
  by: Breakdown
  from: string
  to: string
  rows: RateRow[]
}

export interface PointCluster {
  lng: number
  lat: number
  count: number
  case_id: number | null
}
export interface CasePoints {
  total: number
  truncated: boolean
  clusters: PointCluster[]
}

/** The figures a dashboard shows, in order; each drills down through `/api/v1/rates/cases?figure=`. */
export const RATE_FIGURES = ['completion', 'on_time', 'response', 'satisfaction', 'resolution'] as const
export type RateFigure = (typeof RATE_FIGURES)[number]

/** The rate filter keys a breakdown row's key stands for (a trend row narrows the period instead). */
export const ROW_FILTER: Record<Breakdown, string | null> = {
  month: null,
  day: null,
  region: 'region_code',
  grid: 'grid_code',
  category: 'category',
  department: 'unit',
}

/** The case statuses the map's status filter stands for. */
export const POINT_STATUSES = {
  open: 'registered,accepted,dispatched,in_progress,returned',
  done: 'resolved,awaiting_follow_up,closed,archived',
} as const

export type Preset = 'today' | '7d' | '30d' | 'month' | 'quarter' | 'year'
export const PRESETS: Preset[] = ['today', '7d', '30d', 'month', 'quarter', 'year']

function iso(d: Date): string {
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}-${String(d.getUTCDate()).padStart(2, '0')}`
}

/** A preset's first and last local day, ending today (`today` is YYYY-MM-DD). */
export function presetRange(preset: Preset, today: string): { from: string; to: string } {
  const [y, m, d] = today.split('-').map(Number)
  const day = (yy: number, mm: number, dd: number) => iso(new Date(Date.UTC(yy, mm - 1, dd)))
  switch (preset) {
    case 'today':
      return { from: today, to: today }
    case '7d':
      return { from: day(y, m, d - 6), to: today }
    case '30d':
      return { from: day(y, m, d - 29), to: today }
    case 'month':
      return { from: day(y, m, 1), to: today }
    case 'quarter':
      return { from: day(y, Math.floor((m - 1) / 3) * 3 + 1, 1), to: today }
    case 'year':
      return { from: day(y, 1, 1), to: today }
  }
}

/** Days in a period, both ends included. */
export function daysIn(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86400000) + 1
}

/** A trend splits a short period by day and a long one by month. */
export function trendBy(from: string, to: string): Breakdown {
  return daysIn(from, to) <= 62 ? 'day' : 'month'
}

/** A rate as a percentage with one decimal, or a dash when nothing was counted. */
export function percent(rate: number | null | undefined): string {
  return rate === null || rate === undefined ? '—' : `${(Math.round(rate * 1000) / 10).toFixed(1)}%`
}

/** Rows ranked by a figure (rows with nothing counted last, then by name), best first. */
export function rank(rows: RateRow[], figure: RateFigure | 'cohort'): RateRow[] {
  const value = (r: RateRow) => (figure === 'cohort' ? r.rates.counts.cohort : r.rates[figure].rate)
  return [...rows].sort((a, b) => {
    const va = value(a)
    const vb = value(b)
    if (va === null && vb === null) return a.name.localeCompare(b.name, 'zh-CN')
    if (va === null) return 1
    if (vb === null) return -1
    return vb - va || a.name.localeCompare(b.name, 'zh-CN')
  })
}

/**
 * A fill colour for a value in [min, max] on a green (good) to red (bad) scale; `higherIsBetter` false turns
 * it round (load: more cases is redder). Grey when there is no value.
 */
export function scaleColour(value: number | null | undefined, min: number, max: number, higherIsBetter = true): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '#cbd5e1'
  const span = max - min
  let t = span > 0 ? (value - min) / span : 1
  t = Math.min(1, Math.max(0, t))
  if (!higherIsBetter) t = 1 - t
  // red (0) → amber (0.5) → green (1)
  const stops = [
    [220, 38, 38],
    [245, 158, 11],
    [22, 163, 74],
  ]
  const [a, b, f] = t < 0.5 ? [stops[0], stops[1], t * 2] : [stops[1], stops[2], (t - 0.5) * 2]
  const c = a.map((x, i) => Math.round(x + (b[i] - x) * f))
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`
}

/** A cluster marker's radius in pixels: grows with the logarithm of its count. */
export function clusterRadius(count: number): number {
  return count <= 1 ? 6 : Math.min(30, 9 + Math.round(Math.log10(count) * 7))
}
