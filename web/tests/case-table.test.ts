// The case list keeps its filters in the URL: a filter chosen on screen lands in the query, a query given
// in the URL is what the API is asked for, and paging/sorting go both ways.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createRouter, createMemoryHistory } from 'vue-router'
import ElementPlus from 'element-plus'
import * as Icons from '@element-plus/icons-vue'
import CaseTable from '../src/components/CaseTable.vue'

const calls: string[] = []
const aCase = {
  id: 7, number: '370883107-20261123-0007', kind: 'dispute', channel: 'walk_in', urgency: 'normal', status: 'in_progress',
  category: null, title: '邻居占用通道', description: '', tags: [], address: '', lng: null, lat: null, placement: 'none',
  grid_code: null, basic_grid_code: null, region_code: '370883107', owner_region: '370883107', lead_unit: null, units: [],
  claimed_by: null, leader_owner: null, response_due: null, handling_due: '2026-11-30T09:00:00Z', follow_up_due: null,
  feedback_due: null, clock_paused: false, deadline_provisional: false, warning: 'none', pending_extension: null,
  reopen_count: 0, merged_into: null, satisfaction: null, parties: [], version: 3,
  created_at: '2026-11-23T02:00:00Z', updated_at: '2026-11-23T02:00:00Z',
}

beforeEach(() => {
  calls.length = 0
  vi.stubGlobal('fetch', async (url: string) => {
    calls.push(url)
    const body = url.startsWith('/api/v1/cases') ? { items: [aCase], total: 45 } : []
    return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } })
  })
})
afterEach(() => vi.unstubAllGlobals())

async function mountAt(path: string, props: Record<string, unknown> = {}) {
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/cases', component: { template: '<div />' } }, { path: '/cases/:id', component: { template: '<div />' } }] })
  await router.push(path)
  await router.isReady()
  const wrapper = mount(CaseTable, { props, global: { plugins: [router, ElementPlus], components: Icons } })
  await flushPromises()
  return { wrapper, router }
}

describe('the case list and the URL', () => {
  it('asks the API for what the URL says', async () => {
    await mountAt('/cases?status=returned&q=%E5%99%AA%E9%9F%B3&page=2&per_page=50&sort=deadline')
    const list = calls.find((c) => c.startsWith('/api/v1/cases?'))!
    const params = Object.fromEntries(new URL(list, 'http://x').searchParams)
    expect(params).toEqual({ status: 'returned', q: '噪音', sort: 'deadline', page: '2', per_page: '50' })
  })

  it('puts a search typed on screen into the URL, back at page 1', async () => {
    const { wrapper, router } = await mountAt('/cases?page=3')
    const input = wrapper.find('[data-testid=search-input]')
    await input.setValue('漏水')
    await input.trigger('keyup', { key: 'Enter' })
    await flushPromises()
    expect(router.currentRoute.value.query).toEqual({ q: '漏水' })
    expect(calls.at(-1)).toContain('q=%E6%BC%8F%E6%B0%B4')
  })

  it('keeps the default queue out of the URL and puts another queue in', async () => {
    const { wrapper, router } = await mountAt('/cases', { queues: ['new', 'returned'], defaultQueue: 'new' })
    expect(calls.find((c) => c.startsWith('/api/v1/cases?'))).toContain('queue=new')
    const tabs = wrapper.findAll('.el-tabs__item')
    await tabs[1].trigger('click')
    await flushPromises()
    expect(router.currentRoute.value.query).toEqual({ queue: 'returned' })
  })

  it('shows the rows with their numbers and the total', async () => {
    const { wrapper } = await mountAt('/cases')
    expect(wrapper.find(`[data-case-number="${aCase.number}"]`).exists()).toBe(true)
    expect(wrapper.text()).toContain('共 45 条')
  })

  it('shows the designed error state when the API fails', async () => {
    vi.stubGlobal('fetch', async () => new Response(JSON.stringify({ code: 'internal', message_zh: '服务器出错', message_en: 'server error' }), { status: 500, headers: { 'content-type': 'application/json' } }))
    const { wrapper } = await mountAt('/cases')
    expect(wrapper.find('[data-state=error]').exists()).toBe(true)
    expect(wrapper.text()).toContain('服务器出错')
  })
})
