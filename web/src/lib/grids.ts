// The grids in the caller's scope (with their GeoJSON outlines), fetched once per page load.
import { api, type GridOut, type Paged } from '../api/client'

let cached: Promise<GridOut[]> | null = null

export function loadGrids(force = false): Promise<GridOut[]> {
  if (!cached || force) {
    cached = (async () => {
      const all: GridOut[] = []
      for (let page = 1; page <= 10; page++) {
        const p = await api.get<Paged<GridOut>>('/api/v1/grids', { page, per_page: 200 })
        all.push(...p.items)
        if (all.length >= p.total || p.items.length === 0) break
      }
      return all
    })()
    cached.catch(() => (cached = null))
  }
  return cached
}

/** The base map's tile URL template, if one is configured (none by default: the deployment may be offline). */
export function tileUrl(): string {
  return localStorage.getItem('fq.tileUrl') || (import.meta.env.VITE_TILE_URL as string | undefined) || ''
}
