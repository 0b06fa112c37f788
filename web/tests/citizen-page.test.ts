// The citizen's page: a submission that failed on the network is sent again with the same Idempotency-Key
// and device id (so the server answers with one case), the QR code's place is sent as the region, and the
// receipt shows the number and tracking code; the progress page shows the rating form only while it can rate.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createRouter, createMemoryHistory } from 'vue-router'
import ElementPlus from 'element-plus'
import CitizenView from '../src/views/CitizenView.vue'
import TrackView from '../src/views/TrackView.vue'

interface Call { url: string; method: string; headers: Record<string, string>; body: unknown }
let calls: Call[] = []
let failNextSubmit = false
let tracked: Record<string, unknown> = {}

beforeEach(() => {
  calls = []
  localStorage.clear()
  vi.stubGlobal('fetch', async (url: string, init: RequestInit = {}) => {
    const headers = (init.headers ?? {}) as Record<string, string>
    let body: unknown = init.body
    try {
      body = typeof init.body === 'string' ? JSON.parse(init.body) : init.body
    } catch {
      /* raw */
    }
    calls.push({ url, method: init.method ?? 'GET', headers, body })
    const json = (status: number, value: unknown) => new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json' } })
    if (url.startsWith('/api/v1/public/places')) return json(200, { kind: 'region', name: '鲍店社区', region_code: '370883107001', full_name: '邹城市 太平镇 鲍店社区' })
    if (url === '/api/v1/public/cases') {
      if (failNextSubmit) {
        failNextSubmit = false
        throw new TypeError('Failed to fetch')
      }
      return json(201, { case: { number: '370883107-20261123-0001', title: '路灯不亮' }, tracking_secret: 'AB3CDE', replayed: false })
    }
    if (url.startsWith('/api/v1/public/track')) return json(200, tracked)
    if (url.includes('/rating')) return json(200, { ...tracked, status: 'closed', can_rate: false, satisfaction: (body as { outcome: string }).outcome })
    return json(404, { code: 'not_found' })
  })
})
afterEach(() => vi.unstubAllGlobals())

async function mountAt(component: unknown, path: string) {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/report', component: CitizenView },
      { path: '/track', component: TrackView },
    ],
  })
  await router.push(path)
  await router.isReady()
  const wrapper = mount(component as never, { global: { plugins: [router, ElementPlus] } })
  await flushPromises()
  return wrapper
}

describe('the citizen page', () => {
  it('sends a failed submission again with the same key, placed at the QR code’s village', async () => {
    const wrapper = await mountAt(CitizenView, '/report?region=370883107001')
    expect(wrapper.find('[data-testid=citizen-place]').text()).toContain('鲍店社区')
    await wrapper.find('[data-testid=citizen-title]').setValue('路灯不亮')
    await wrapper.find('[data-testid=citizen-description]').setValue('村口路灯坏了')
    failNextSubmit = true
    await wrapper.find('[data-testid=citizen-submit]').trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-testid=citizen-error]').exists()).toBe(true)
    expect(wrapper.find('[data-testid=citizen-receipt]').exists()).toBe(false)
    await wrapper.find('[data-testid=citizen-submit]').trigger('click')
    await flushPromises()
    const submits = calls.filter((c) => c.url === '/api/v1/public/cases')
    expect(submits.length).toBe(2)
    expect(submits[0].headers['Idempotency-Key']).toBeTruthy()
    expect(submits[1].headers['Idempotency-Key']).toBe(submits[0].headers['Idempotency-Key'])
    expect(submits[1].headers['X-Device-Id']).toBe(submits[0].headers['X-Device-Id'])
    expect(submits[1].body).toMatchObject({ kind: 'request', channel: 'self_service', region_code: '370883107001', title: '路灯不亮' })
    expect(wrapper.find('[data-testid=citizen-number]').text()).toBe('370883107-20261123-0001')
    expect(wrapper.find('[data-testid=citizen-secret]').text()).toBe('AB3CDE')
    // The next submission gets a new key.
    expect(localStorage.getItem('fq.submissionKey')).toBeNull()
    expect(JSON.parse(localStorage.getItem('fq.mySubmissions')!)[0]).toMatchObject({ number: '370883107-20261123-0001', secret: 'AB3CDE' })
  })

  it('sends nothing while the title or description is missing', async () => {
    const wrapper = await mountAt(CitizenView, '/report?region=370883107001')
    await wrapper.find('[data-testid=citizen-submit]').trigger('click')
    await flushPromises()
    expect(wrapper.findAll('.field-error').length).toBe(2)
    expect(calls.some((c) => c.url === '/api/v1/public/cases')).toBe(false)
  })
})

describe('the progress page', () => {
  it('offers the rating only while the case can be rated, and shows it after', async () => {
    tracked = { number: 'N1', status: 'awaiting_follow_up', title: '路灯不亮', created_at: '2026-11-23T02:00:00Z', handling_due: null, timeline: [], result: '已修复', can_rate: true, satisfaction: null }
    const wrapper = await mountAt(TrackView, '/track?number=N1&secret=AB3CDE')
    expect(wrapper.find('[data-testid=track-outcome]').text()).toContain('已修复')
    expect(wrapper.find('[data-testid=track-rate]').exists()).toBe(true)
    // Nothing chosen: asked to choose, nothing sent.
    await wrapper.find('[data-testid=track-rate-submit]').trigger('click')
    await flushPromises()
    expect(calls.some((c) => c.url.includes('/rating'))).toBe(false)
    await wrapper.find('[data-testid=track-rate] input[value=satisfied]').setValue(true)
    await wrapper.find('[data-testid=track-rate-submit]').trigger('click')
    await flushPromises()
    const rating = calls.find((c) => c.url.includes('/rating'))!
    expect(rating.url).toBe('/api/v1/public/cases/N1/rating')
    expect(rating.body).toMatchObject({ secret: 'AB3CDE', outcome: 'satisfied' })
    expect(wrapper.find('[data-testid=track-rated]').attributes('data-outcome')).toBe('satisfied')
    expect(wrapper.find('[data-testid=track-rate]').exists()).toBe(false)
  })
})
