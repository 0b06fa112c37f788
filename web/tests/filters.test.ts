import { describe, expect, it } from 'vitest'
import {
  DEFAULT_PER_PAGE, filtersFromQuery, filtersToApiParams, filtersToExportParams, filtersToQuery, withFilter,
} from '../src/lib/filters'

describe('the filter ⇄ URL mapping', () => {
  it('reads known filters and paging from the query, dropping the unknown and the malformed', () => {
    const f = filtersFromQuery({
      queue: 'overdue', status: 'dispatched,in_progress', q: ' 噪音 ', page: '3', per_page: '50',
      created_from: '2026-11-01', created_to: 'yesterday', evil: '<script>', sort: ['deadline', 'oldest'],
    })
    expect(f.filters).toEqual({ queue: 'overdue', status: 'dispatched,in_progress', q: '噪音', created_from: '2026-11-01', sort: 'deadline' })
    expect(f.page).toBe(3)
    expect(f.perPage).toBe(50)
  })

  it('falls back to page 1 and the default page size for nonsense', () => {
    const f = filtersFromQuery({ page: '-2', per_page: '7' })
    expect(f.page).toBe(1)
    expect(f.perPage).toBe(DEFAULT_PER_PAGE)
    expect(filtersFromQuery({ page: 'abc' }).page).toBe(1)
  })

  it('round-trips: what is written to the URL reads back the same', () => {
    const f = { filters: { queue: 'returned', kind: 'dispute', q: '漏水', created_from: '2026-01-01', created_to: '2026-01-31' }, page: 2, perPage: 100 }
    const query = filtersToQuery(f)
    expect(query).toEqual({ queue: 'returned', kind: 'dispute', q: '漏水', created_from: '2026-01-01', created_to: '2026-01-31', page: '2', per_page: '100' })
    expect(filtersFromQuery(query)).toEqual(f)
  })

  it('keeps URLs short: no empty values, no default paging', () => {
    expect(filtersToQuery({ filters: { q: '  ', status: '' }, page: 1, perPage: DEFAULT_PER_PAGE })).toEqual({})
  })

  it('changing a filter goes back to page 1, clearing removes it', () => {
    const f = { filters: { status: 'returned' }, page: 4, perPage: 20 }
    expect(withFilter(f, 'kind', 'petition')).toEqual({ filters: { status: 'returned', kind: 'petition' }, page: 1, perPage: 20 })
    expect(withFilter(f, 'status', undefined).filters).toEqual({})
  })

  it('gives the API its parameters, fixed ones winning, and the export the same without paging', () => {
    const f = { filters: { queue: 'new', q: '路灯' }, page: 2, perPage: 50 }
    expect(filtersToApiParams(f, { queue: 'awaiting_follow_up' })).toEqual({ queue: 'awaiting_follow_up', q: '路灯', page: '2', per_page: '50' })
    expect(filtersToExportParams(f)).toEqual({ queue: 'new', q: '路灯' })
  })
})
