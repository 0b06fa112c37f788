// What the navigation offers: each screen names the permissions that open it; a user sees a screen when any of
// their roles grants one of them (permission names as `GET /api/v1/auth/me` lists them).

export interface NavItem {
  name: string
  path: string
  label: string // i18n key
  icon: string
  anyOf: string[]
  group?: 'work' | 'admin'
}

export const NAV: NavItem[] = [
  { name: 'intake', path: '/intake', label: 'nav.intake', icon: 'EditPen', anyOf: ['register_cases'], group: 'work' },
  { name: 'console', path: '/console', label: 'nav.console', icon: 'Monitor', anyOf: ['dispatch_cases'], group: 'work' },
  { name: 'inbox', path: '/inbox', label: 'nav.inbox', icon: 'Tickets', anyOf: ['handle_cases'], group: 'work' },
  { name: 'followup', path: '/follow-up', label: 'nav.followUp', icon: 'Phone', anyOf: ['dispatch_cases'], group: 'work' },
  {
    name: 'cases',
    path: '/cases',
    label: 'nav.cases',
    icon: 'Search',
    anyOf: ['register_cases', 'dispatch_cases', 'handle_cases', 'supervise_cases', 'read_figures', 'report_grid_events'],
    group: 'work',
  },
  { name: 'dashboard', path: '/dashboard', label: 'nav.dashboard', icon: 'DataAnalysis', anyOf: ['read_figures', 'dispatch_cases', 'supervise_cases'], group: 'work' },
  { name: 'admin-regions', path: '/admin/regions', label: 'nav.regions', icon: 'MapLocation', anyOf: ['configure_organisation'], group: 'admin' },
  { name: 'admin-departments', path: '/admin/departments', label: 'nav.departments', icon: 'OfficeBuilding', anyOf: ['configure_organisation'], group: 'admin' },
  { name: 'admin-catalog', path: '/admin/catalog', label: 'nav.catalog', icon: 'List', anyOf: ['configure_organisation'], group: 'admin' },
  { name: 'admin-calendar', path: '/admin/calendar', label: 'nav.calendar', icon: 'Calendar', anyOf: ['configure_organisation'], group: 'admin' },
  { name: 'admin-users', path: '/admin/users', label: 'nav.users', icon: 'User', anyOf: ['manage_users'], group: 'admin' },
  { name: 'grid', path: '/m/grid', label: 'grid.nav', icon: 'Location', anyOf: ['report_grid_events'], group: 'work' },
  { name: 'admin-qr', path: '/admin/qr', label: 'qr.nav', icon: 'Postcard', anyOf: ['configure_organisation'], group: 'admin' },
  { name: 'mediation', path: '/mediation', label: 'mediation.nav', icon: 'Connection', anyOf: ['mediate', 'dispatch_cases', 'read_figures'], group: 'work' },
  { name: 'petitions', path: '/petitions', label: 'petition.nav', icon: 'Postcard', anyOf: ['accept_cases', 'receive_petitioners'], group: 'work' },
  { name: 'receptions', path: '/receptions', label: 'petition.navReceptions', icon: 'Calendar', anyOf: ['accept_cases', 'receive_petitioners'], group: 'work' },
  { name: 'admin-committees', path: '/admin/committees', label: 'mediation.navAdmin', icon: 'Connection', anyOf: ['configure_organisation'], group: 'admin' },
  { name: 'backlog', path: '/backlog', label: 'petition.navBacklog', icon: 'Files', anyOf: ['receive_petitioners', 'supervise_cases'], group: 'work' },
]

export function allowed(item: { anyOf: string[] }, permissions: readonly string[]): boolean {
  return item.anyOf.some((p) => permissions.includes(p))
}

export function navFor(permissions: readonly string[]): NavItem[] {
  return NAV.filter((item) => allowed(item, permissions))
}

/** Where a user lands after signing in: their first screen. */
export function homeFor(permissions: readonly string[]): string {
  const order = ['console', 'grid', 'inbox', 'intake', 'dashboard', 'cases', 'mediation', 'receptions', 'admin-regions', 'admin-users']
  for (const name of order) {
    const item = NAV.find((n) => n.name === name)
    if (item && allowed(item, permissions)) return item.path
  }
  return '/welcome'
}
