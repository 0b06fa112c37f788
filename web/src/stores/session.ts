// Who is signed in: the user, their roles and scopes, and what they may do.
import { defineStore } from 'pinia'
import { api, ApiError, type MeResponse, type LoginResponse } from '../api/client'

export const useSession = defineStore('session', {
  state: () => ({ me: null as MeResponse | null, checked: false }),
  getters: {
    permissions: (s): string[] => s.me?.permissions ?? [],
    signedIn: (s): boolean => s.me !== null,
  },
  actions: {
    can(permission: string): boolean {
      return this.permissions.includes(permission)
    },
    async load(): Promise<void> {
      try {
        this.me = await api.get<MeResponse>('/api/v1/auth/me')
      } catch (e) {
        if (!(e instanceof ApiError) || e.status !== 401) throw e
        this.me = null
      } finally {
        this.checked = true
      }
    },
    async login(username: string, password: string): Promise<void> {
      await api.post<LoginResponse>('/api/v1/auth/login', { username, password })
      await this.load()
    },
    async logout(): Promise<void> {
      try {
        await api.post('/api/v1/auth/logout')
      } finally {
        this.me = null
      }
    },
  },
})
