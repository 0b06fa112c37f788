// The case list's filters ⇄ the page's URL query, so a filtered list can be bookmarked, shared and reloaded,
// and ⇄ the API's query parameters (`GET /api/v1/cases`, `GET /api/v1/cases/export`).

export const FILTER_KEYS = [
  'queue',
  'status',
  'kind',
  'category',
  'region_code',
  'unit',
  'channel',
  'tag',
  'created_from',
  'created_to',
  'deadline',
  'sort',
  'q',
] as const

export type FilterKey = (typeof FILTER_KEYS)[number]

export interface CaseFilters {
  filters: Partial<Record<FilterKey, string>>
  page: number
  perPage: number
}

export const DEFAULT_PER_PAGE = 20
export const PER_PAGE_CHOICES = [20, 50, 100]

type QueryValue = string | null | undefined | (string | null)[]

function first(v: QueryValue): string | undefined {
  const s = Array.isArray(v) ? v[0] : v
  return s == null ? undefined : String(s)
}

function positiveInt(v: string | undefined, fallback: number): number {
  if (!v || !/^\d+$/.test(v)) return fallback
  const n = Number(v)
  return n >= 1 ? n : fallback
}

const DATE = /^\d{4}-\d{2}-\d{2}$/

/** Reads filters from a route query; unknown keys and malformed values are dropped. */
export function filtersFromQuery(query: Record<string, QueryValue>): CaseFilters {
  const filters: Partial<Record<FilterKey, string>> = {}
  for (const key of FILTER_KEYS) {
    const value = first(query[key])?.trim()
    if (!value) continue
    if ((key === 'created_from' || key === 'created_to') && !DATE.test(value)) continue
    filters[key] = value
  }
  const perPage = positiveInt(first(query.per_page), DEFAULT_PER_PAGE)
  return {
    filters,
    page: positiveInt(first(query.page), 1),
    perPage: PER_PAGE_CHOICES.includes(perPage) ? perPage : DEFAULT_PER_PAGE,
  }
}

/** Writes filters to a route query: empty values and defaults are left out, so URLs stay short. */
export function filtersToQuery(f: CaseFilters): Record<string, string> {
  const out: Record<string, string> = {}
  for (const key of FILTER_KEYS) {
    const value = f.filters[key]?.trim()
    if (value) out[key] = value
  }
  if (f.page > 1) out.page = String(f.page)
  if (f.perPage !== DEFAULT_PER_PAGE) out.per_page = String(f.perPage)
  return out
}

/** The API's parameters for a list page (`page`, `per_page` included). */
export function filtersToApiParams(f: CaseFilters, fixed: Partial<Record<FilterKey, string>> = {}) {
  const params: Record<string, string> = {}
  for (const key of FILTER_KEYS) {
    const value = (fixed[key] ?? f.filters[key])?.trim()
    if (value) params[key] = value
  }
  params.page = String(f.page)
  params.per_page = String(f.perPage)
  return params
}

/** The export's parameters: the same filters, no paging. */
export function filtersToExportParams(f: CaseFilters, fixed: Partial<Record<FilterKey, string>> = {}) {
  const params = filtersToApiParams(f, fixed)
  delete params.page
  delete params.per_page
  return params
}

/** Changing a filter starts again at page 1. */
export function withFilter(f: CaseFilters, key: FilterKey, value: string | undefined): CaseFilters {
  const filters = { ...f.filters }
  if (value && value.trim()) filters[key] = value.trim()
  else delete filters[key]
  return { ...f, filters, page: 1 }
}
