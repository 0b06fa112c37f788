// The screens and who may open them (route meta `anyOf`, the same permission names as the navigation).
import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { useSession } from './stores/session'
import { NAV, allowed, homeFor } from './lib/nav'

const need = (name: string) => ({ anyOf: NAV.find((n) => n.name === name)?.anyOf ?? [] })

const routes: RouteRecordRaw[] = [
  { path: '/login', name: 'login', component: () => import('./views/LoginView.vue'), meta: { public: true } },
  { path: '/track', name: 'track', component: () => import('./views/TrackView.vue'), meta: { public: true } },
  { path: '/big-screen', name: 'big-screen', component: () => import('./views/BigScreenView.vue'), meta: need('dashboard') },
  {
    path: '/',
    component: () => import('./views/ShellView.vue'),
    children: [
      { path: '', name: 'home', component: () => import('./views/WelcomeView.vue') },
      { path: 'welcome', name: 'welcome', component: () => import('./views/WelcomeView.vue') },
      { path: 'intake', name: 'intake', component: () => import('./views/IntakeView.vue'), meta: need('intake') },
      { path: 'console', name: 'console', component: () => import('./views/ConsoleView.vue'), meta: need('console') },
      { path: 'inbox', name: 'inbox', component: () => import('./views/InboxView.vue'), meta: need('inbox') },
      { path: 'follow-up', name: 'followup', component: () => import('./views/FollowUpView.vue'), meta: need('followup') },
      { path: 'cases', name: 'cases', component: () => import('./views/CasesView.vue'), meta: need('cases') },
      { path: 'cases/:id', name: 'case', component: () => import('./views/CaseView.vue') },
      { path: 'dashboard', name: 'dashboard', component: () => import('./views/DashboardView.vue'), meta: need('dashboard') },
      { path: 'admin/regions', name: 'admin-regions', component: () => import('./views/admin/RegionsView.vue'), meta: need('admin-regions') },
      { path: 'admin/departments', name: 'admin-departments', component: () => import('./views/admin/DepartmentsView.vue'), meta: need('admin-departments') },
      { path: 'admin/catalog', name: 'admin-catalog', component: () => import('./views/admin/CatalogView.vue'), meta: need('admin-catalog') },
      { path: 'admin/calendar', name: 'admin-calendar', component: () => import('./views/admin/CalendarView.vue'), meta: need('admin-calendar') },
      { path: 'admin/users', name: 'admin-users', component: () => import('./views/admin/UsersView.vue'), meta: need('admin-users') },
      { path: 'mediation', name: 'mediation', component: () => import('./views/mediation/MediationDeskView.vue'), meta: need('mediation') },
      { path: 'mediations/:id', name: 'mediation-one', component: () => import('./views/mediation/MediationView.vue') },
      { path: 'petitions', name: 'petitions', component: () => import('./views/petition/PetitionsView.vue'), meta: need('petitions') },
      { path: 'receptions', name: 'receptions', component: () => import('./views/petition/ReceptionsView.vue'), meta: need('receptions') },
      { path: 'backlog', name: 'backlog', component: () => import('./views/petition/BacklogView.vue'), meta: need('backlog') },
      { path: 'admin/committees', name: 'admin-committees', component: () => import('./views/admin/CommitteesView.vue'), meta: need('admin-committees') },
      { path: ':rest(.*)*', name: 'not-found', component: () => import('./views/NotFoundView.vue') },
      { path: 'admin/qr', name: 'admin-qr', component: () => import('./views/admin/QrSheetView.vue'), meta: need('admin-qr') },
    ],
  },
  // The citizen's page a printed QR code opens (no sign-in), and the grid worker's phone view (no desktop shell).
  { path: '/report', name: 'report', component: () => import('./views/CitizenView.vue'), meta: { public: true } },
  { path: '/m/grid', name: 'grid', component: () => import('./views/GridView.vue'), meta: need('grid') },
]

export const router = createRouter({ history: createWebHistory(), routes })

router.beforeEach(async (to) => {
  const session = useSession()
  if (!session.checked) await session.load().catch(() => undefined)
  if (to.meta.public) return session.signedIn && to.name === 'login' ? homeFor(session.permissions) : true
  if (!session.signedIn) return { name: 'login', query: to.fullPath !== '/' ? { next: to.fullPath } : {} }
  if (to.name === 'home') return homeFor(session.permissions)
  const anyOf = to.meta.anyOf as string[] | undefined
  if (anyOf && anyOf.length && !allowed({ anyOf }, session.permissions)) return homeFor(session.permissions)
  return true
})
