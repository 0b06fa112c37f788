import { createApp } from 'vue'
import { createPinia } from 'pinia'
import { ICONS } from './lib/icons'
import 'element-plus/dist/index.css'
import 'leaflet/dist/leaflet.css'
import './style.css'
import App from './App.vue'
import { router } from './router'
import { setUnauthenticatedHandler } from './api/client'
import { useSession } from './stores/session'

const app = createApp(App)
const pinia = createPinia()
app.use(pinia)
app.use(router)
for (const [name, component] of Object.entries(ICONS)) app.component(name, component)
setUnauthenticatedHandler(() => {
  const session = useSession(pinia)
  if (session.me) {
    session.me = null
    router.push({ name: 'login', query: { next: router.currentRoute.value.fullPath } })
  }
})
app.mount('#app')
