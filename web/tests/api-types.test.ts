// The TypeScript types of the API (src/api/schema.d.ts) are generated from openapi.json, which a Rust test
// keeps equal to what the server documents; this fails when the generated file is stale.
import { describe, expect, it } from 'vitest'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

describe('the generated API types', () => {
  it('are current with openapi.json (run `npm run gen:api` after changing the API)', () => {
    const root = resolve(__dirname, '..')
    const out = join(mkdtempSync(join(tmpdir(), 'fq-api-')), 'schema.d.ts')
    const cli = join(root, 'node_modules/openapi-typescript/bin/cli.js')
    execFileSync(process.execPath, [cli, join(root, 'openapi.json'), '-o', out], { stdio: 'pipe' })
    expect(readFileSync(join(root, 'src/api/schema.d.ts'), 'utf8')).toBe(readFileSync(out, 'utf8'))
  }, 60000)
})
