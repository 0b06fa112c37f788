// Loads everything the dashboard and the big screen show for one set of filters: the rates, a trend, the
// category mix, a ranking, the grids' values for the map, the mediation success rate and the daily bulletin.
import { ref } from 'vue'
import { api, ApiError } from '../api/client'
import { locale } from '../i18n'
import { trendBy, type Breakdown, type RateBreakdown, type Rates } from './dashboard'

export interface DashboardFilters {
  from: string
  to: string
  region_code?: string
  category?: string
}

export interface MediationTotal {
  total: { concluded: number; succeeded: number; success_rate: number | null }
  follow_ups_overdue: number
}

export interface BulletinOut {
  region_code: string
  region_name: string
  date: string
  figures: {
    registered: number
    accepted: number
    resolved: number
    overdue: number
    overdue_by_unit: { label: string; count: number }[]
    supervision_opened: number
    supervision_closed: number
  }
  unit_names: Record<string, string>
}

/** The rate query of a set of filters (empty values left out). */
export function rateQuery(f: DashboardFilters): Record<string, string | undefined> {
  return { from: f.from, to: f.to, region_code: f.region_code || undefined, category: f.category || undefined }
}

export function useDashboard() {
  const rates = ref<Rates | null>(null)
  const trend = ref<RateBreakdown | null>(null)
  const categories = ref<RateBreakdown | null>(null)
  const ranking = ref<RateBreakdown | null>(null)
  const gridRows = ref<RateBreakdown | null>(null)
  const mediation = ref<MediationTotal | null>(null)
  const bulletin = ref<BulletinOut | null>(null)
  const loading = ref(false)
  const error = ref<string | null>(null)

  const breakdown = (f: DashboardFilters, by: Breakdown) =>
    api.get<RateBreakdown>('/api/v1/rates/breakdown', { ...rateQuery(f), by })

  /** Loads every part at once; each part shows as soon as its answer arrives (the figure cards first). */
  async function load(f: DashboardFilters, rankBy: Breakdown, bulletinRegion: string | null) {
    loading.value = true
    error.value = null
    const fail = (e: unknown) => {
      error.value = e instanceof ApiError ? e.text(locale.value) : String(e)
    }
    await Promise.all([
      api.get<Rates>('/api/v1/rates', rateQuery(f)).then((r) => (rates.value = r), fail),
      breakdown(f, trendBy(f.from, f.to)).then((r) => (trend.value = r), fail),
      breakdown(f, 'category').then((r) => (categories.value = r), fail),
      breakdown(f, rankBy).then((r) => {
        ranking.value = r
        if (rankBy === 'grid') gridRows.value = r
      }, fail),
      rankBy === 'grid' ? null : breakdown(f, 'grid').then((r) => (gridRows.value = r), fail),
      api.get<MediationTotal>('/api/v1/mediation-figures', { from: f.from, to: f.to }).then((r) => (mediation.value = r), () => (mediation.value = null)),
      bulletinRegion
        ? api.get<BulletinOut>('/api/v1/bulletin', { region_code: bulletinRegion }).then((r) => (bulletin.value = r), () => (bulletin.value = null))
        : (bulletin.value = null),
    ])
    loading.value = false
  }

  async function loadRanking(f: DashboardFilters, rankBy: Breakdown) {
    try {
      ranking.value = await breakdown(f, rankBy)
    } catch (e) {
      error.value = e instanceof ApiError ? e.text(locale.value) : String(e)
    }
  }

  return { rates, trend, categories, ranking, gridRows, mediation, bulletin, loading, error, load, loadRanking }
}

/** The region a user's bulletin is for: their first region scope (a town or county), if any. */
export function bulletinRegionOf(scopes: string[]): string | null {
  const region = scopes.find((s) => s.startsWith('region:'))
  return region ? region.slice('region:'.length) : null
}
