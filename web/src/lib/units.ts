// Names for the units a case goes to (`dept:ID`, `grid:CODE`), from the departments and grids in scope.
import { ref } from 'vue'
import { api, type DepartmentOut, type Paged } from '../api/client'
import { loadGrids } from './grids'

export interface UnitOption { key: string; label: string; kind: 'dept' | 'grid' }

export const unitNames = ref<Record<string, string>>({})
let cached: Promise<UnitOption[]> | null = null

export function loadUnits(): Promise<UnitOption[]> {
  if (!cached) {
    cached = (async () => {
      const out: UnitOption[] = []
      const depts = await api.get<Paged<DepartmentOut>>('/api/v1/departments', { per_page: 200 }).catch(() => ({ items: [] as DepartmentOut[], total: 0 }))
      for (const d of depts.items) out.push({ key: `dept:${d.id}`, label: d.name, kind: 'dept' })
      const grids = await loadGrids().catch(() => [])
      for (const g of grids) out.push({ key: `grid:${g.code}`, label: g.name, kind: 'grid' })
      unitNames.value = Object.fromEntries(out.map((u) => [u.key, u.label]))
      return out
    })()
    cached.catch(() => (cached = null))
  }
  return cached
}

export function unitLabel(key: string | null | undefined): string {
  if (!key) return ''
  return unitNames.value[key] ?? key
}
