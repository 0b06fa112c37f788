import { describe, expect, it } from 'vitest'
import { homeFor, navFor } from '../src/lib/nav'

describe('navigation by role', () => {
  it('offers an intake clerk the intake desk, the case list and petition registration', () => {
    const names = navFor(['accept_cases', 'look_up_residents', 'read_organisation', 'register_cases', 'register_residents']).map((n) => n.name)
    expect(names).toEqual(['intake', 'cases', 'petitions', 'receptions'])
  })
  it('offers a handler the inbox and the case list', () => {
    expect(navFor(['handle_cases', 'read_organisation']).map((n) => n.name)).toEqual(['inbox', 'cases'])
    expect(homeFor(['handle_cases', 'read_organisation'])).toBe('/inbox')
  })
  it('offers a dispatcher the console first', () => {
    const p = ['accept_cases', 'dispatch_cases', 'register_cases', 'supervise_cases']
    expect(navFor(p).map((n) => n.name)).toEqual(['intake', 'console', 'followup', 'cases', 'dashboard', 'mediation', 'petitions', 'receptions', 'backlog'])
    expect(homeFor(p)).toBe('/console')
  })
  it('sends a leader to the dashboard', () => {
    const p = ['read_organisation', 'look_up_residents', 'receive_petitioners', 'supervise_cases', 'read_figures']
    expect(navFor(p).map((n) => n.name)).toContain('dashboard')
    expect(homeFor(p)).toBe('/dashboard')
    expect(navFor(['handle_cases']).map((n) => n.name)).not.toContain('dashboard')
  })
  it('offers administrators only administration', () => {
    expect(navFor(['configure_organisation', 'read_organisation']).every((n) => n.group === 'admin')).toBe(true)
    expect(navFor(['manage_users']).map((n) => n.name)).toEqual(['admin-users'])
    expect(homeFor(['read_audit'])).toBe('/welcome')
  })
  it('sends a grid worker to the phone view first and offers administrators the QR sheet', () => {
    const p = ['handle_cases', 'look_up_residents', 'mediate', 'read_organisation', 'register_residents', 'report_grid_events']
    expect(navFor(p).map((n) => n.name)).toEqual(['inbox', 'cases', 'grid', 'mediation'])
    expect(homeFor(p)).toBe('/m/grid')
    expect(navFor(['configure_organisation']).map((n) => n.name)).toContain('admin-qr')
  })
  it('offers a mediator the mediation desk, where they land', () => {
    const p = ['look_up_residents', 'mediate', 'read_organisation']
    expect(navFor(p).map((n) => n.name)).toEqual(['mediation'])
    expect(homeFor(p)).toBe('/mediation')
  })
  it('offers a leader the reception calendar and their backlog cases', () => {
    const p = ['look_up_residents', 'read_figures', 'read_organisation', 'receive_petitioners', 'supervise_cases']
    expect(navFor(p).map((n) => n.name)).toEqual(['cases', 'dashboard', 'mediation', 'petitions', 'receptions', 'backlog'])
  })
})
