// A deadline as a countdown, coloured: overdue (red), due soon (yellow, within the last day), or in time.

export type DeadlineLevel = 'none' | 'ok' | 'due_soon' | 'overdue' | 'paused'

export interface DeadlineState {
  level: DeadlineLevel
  /** Whole minutes left (negative when overdue); null without a deadline. */
  minutesLeft: number | null
}

/** How close "due soon" starts: the last 24 hours before the deadline. */
export const DUE_SOON_MINUTES = 24 * 60

export function deadlineState(
  due: string | null | undefined,
  now: Date,
  opts: { paused?: boolean; done?: boolean } = {},
): DeadlineState {
  if (!due) return { level: 'none', minutesLeft: null }
  const at = new Date(due).getTime()
  if (Number.isNaN(at)) return { level: 'none', minutesLeft: null }
  const minutesLeft = Math.floor((at - now.getTime()) / 60000)
  if (opts.done) return { level: 'ok', minutesLeft }
  if (opts.paused) return { level: 'paused', minutesLeft }
  if (minutesLeft < 0) return { level: 'overdue', minutesLeft }
  if (minutesLeft <= DUE_SOON_MINUTES) return { level: 'due_soon', minutesLeft }
  return { level: 'ok', minutesLeft }
}

/** Splits a span of minutes into days, hours and minutes (absolute value). */
export function splitMinutes(minutes: number): { days: number; hours: number; minutes: number } {
  const m = Math.abs(minutes)
  return { days: Math.floor(m / 1440), hours: Math.floor((m % 1440) / 60), minutes: m % 60 }
}

/** The Element Plus tag type for a level. */
export function levelTagType(level: DeadlineLevel): 'danger' | 'warning' | 'success' | 'info' {
  switch (level) {
    case 'overdue':
      return 'danger'
    case 'due_soon':
      return 'warning'
    case 'ok':
      return 'success'
    default:
      return 'info'
  }
}
