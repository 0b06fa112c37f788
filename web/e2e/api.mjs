// API helpers for the end-to-end stories: staff steps driven over HTTP with a bearer token (Node's fetch,
// which a browser context's offline switch does not touch), and a point inside a user's grid.

import { PASSWORD } from './lib.mjs'

export async function token(base, username, password = PASSWORD) {
  const r = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  })
  const json = await r.json()
  if (!r.ok) throw new Error(`login ${username}: ${r.status} ${JSON.stringify(json)}`)
  return json.token
}

export async function call(base, bearer, method, path, body, headers = {}) {
  const r = await fetch(`${base}${path}`, {
    method,
    headers: { accept: 'application/json', authorization: `Bearer ${bearer}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  })
  const text = await r.text()
  let json
  try {
    json = JSON.parse(text)
  } catch {
    json = text
  }
  return { status: r.status, json }
}

/** Acts on a case and throws unless it went through. */
export async function act(base, bearer, id, body) {
  const r = await call(base, bearer, 'POST', `/api/v1/cases/${id}/actions`, body)
  if (r.status !== 200) throw new Error(`${body.action} on ${id}: ${r.status} ${JSON.stringify(r.json)}`)
  return r.json
}

/** The grid worker's grid and a WGS-84 point that the server places in it. */
export async function gridAndPoint(base, bearer) {
  const grids = (await call(base, bearer, 'GET', '/api/v1/grids?per_page=5')).json.items
  const grid = grids[0]
  const geometry = grid.geometry
  const ring = geometry.type === 'MultiPolygon' ? geometry.coordinates[0][0] : geometry.coordinates[0]
  const xs = ring.map((p) => p[0])
  const ys = ring.map((p) => p[1])
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)]
  const candidates = [[0.5, 0.5], [0.3, 0.3], [0.7, 0.7], [0.3, 0.7], [0.7, 0.3], [0.15, 0.5], [0.5, 0.15], [0.85, 0.5], [0.5, 0.85]]
  for (const [fx, fy] of candidates) {
    const lng = Number((x0 + (x1 - x0) * fx).toFixed(6))
    const lat = Number((y0 + (y1 - y0) * fy).toFixed(6))
    const located = (await call(base, bearer, 'GET', `/api/v1/locate?lng=${lng}&lat=${lat}`)).json
    if (located?.placement?.grid === grid.code) return { grid, lng, lat }
  }
  throw new Error(`no point found inside grid ${grid.code}`)
}
