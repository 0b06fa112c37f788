// Times are stored in UTC and always shown in Asia/Shanghai, whatever the browser's zone.

const TZ = 'Asia/Shanghai'

// One formatter for the page: making an Intl.DateTimeFormat costs far more than using one, and a list page
// formats hundreds of times.
let formatter: Intl.DateTimeFormat | null = null

const parts = (d: Date) => {
  const fmt = (formatter ??= new Intl.DateTimeFormat('en-CA', {
    timeZone: TZ,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }))
  const out: Record<string, string> = {}
  for (const p of fmt.formatToParts(d)) out[p.type] = p.value
  return out
}

/** `2026-11-23 14:05` in Asia/Shanghai. */
export function formatDateTime(value: string | Date | null | undefined): string {
  if (!value) return ''
  const d = typeof value === 'string' ? new Date(value) : value
  if (Number.isNaN(d.getTime())) return ''
  const p = parts(d)
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`
}

/** `2026-11-23` in Asia/Shanghai. */
export function formatDate(value: string | Date | null | undefined): string {
  return formatDateTime(value).slice(0, 10)
}

/** Today's date in Asia/Shanghai as `YYYY-MM-DD`. */
export function todayInShanghai(now: Date = new Date()): string {
  return formatDate(now)
}
