// The matter catalog (categories with names and parents), fetched once per page load, for labels and pickers.
import { api } from '../api/client'

export interface Category {
  code: string
  name: string
  parent_code?: string | null
  [k: string]: unknown
}

let cached: Promise<Category[]> | null = null

export function loadCategories(force = false): Promise<Category[]> {
  if (!cached || force) {
    cached = api.get<unknown>('/api/v1/categories').then((v) => {
      const list = Array.isArray(v) ? v : ((v as { items?: unknown[] })?.items ?? [])
      return list as Category[]
    })
    cached.catch(() => (cached = null))
  }
  return cached
}

/** The category's full name (`Parent / Child`). */
export function categoryPath(list: Category[], code: string | null | undefined): string {
  if (!code) return ''
  const byCode = new Map(list.map((c) => [c.code, c]))
  const names: string[] = []
  let c = byCode.get(code)
  let guard = 0
  while (c && guard++ < 10) {
    names.unshift(c.name)
    c = c.parent_code ? byCode.get(c.parent_code) : undefined
  }
  return names.length ? names.join(' / ') : code
}

/** Categories as a tree for the cascader/tree pickers. */
export interface CategoryNode { value: string; label: string; children?: CategoryNode[] }
export function categoryTree(list: Category[]): CategoryNode[] {
  const nodes = new Map<string, CategoryNode>()
  for (const c of list) nodes.set(c.code, { value: c.code, label: c.name })
  const roots: CategoryNode[] = []
  for (const c of list) {
    const node = nodes.get(c.code)!
    const parent = c.parent_code ? nodes.get(c.parent_code) : undefined
    if (parent) (parent.children ??= []).push(node)
    else roots.push(node)
  }
  return roots
}
