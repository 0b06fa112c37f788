import { defineConfig } from 'vitest/config'
import vue from '@vitejs/plugin-vue'
import Components from 'unplugin-vue-components/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'

// `npm run dev` proxies the API to a running `fengqiao` (default 127.0.0.1:8080); `npm run build` writes
// dist/, which the fengqiao binary embeds. Element Plus components are imported where a screen uses them (so
// each lazily loaded screen carries its own), its stylesheet once, whole, from main.ts.
export default defineConfig({
  plugins: [vue(), Components({ resolvers: [ElementPlusResolver({ importStyle: false })], dts: false })],
  server: {
    proxy: { '/api': process.env.FENGQIAO_URL ?? 'http://127.0.0.1:8080' },
  },
  build: { chunkSizeWarningLimit: 3000, sourcemap: false },
  test: {
    environment: 'happy-dom',
    include: ['tests/**/*.test.ts'],
    // Generous: the build machines have 2 cores shared with cargo.
    testTimeout: 30000,
  },
})
