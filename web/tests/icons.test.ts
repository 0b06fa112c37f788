import { describe, expect, it } from 'vitest'
import { ICONS } from '../src/lib/icons'
import { NAV } from '../src/lib/nav'

describe('icons', () => {
  it('registers every icon the navigation names', () => {
    for (const item of NAV) expect(Object.keys(ICONS), item.name).toContain(item.icon)
  })
})
