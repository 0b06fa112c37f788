// In zh-CN no English word of the interface is left untranslated, and both locales have the same keys.
import { describe, expect, it } from 'vitest'
import zh from '../src/i18n/zh-CN'
import en from '../src/i18n/en'

function flatten(tree: unknown, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(tree as Record<string, unknown>)) {
    const key = prefix ? `${prefix}.${k}` : k
    if (typeof v === 'string') out[key] = v
    else Object.assign(out, flatten(v, key))
  }
  return out
}

// What Chinese interfaces write in Latin letters: file formats, the QR code, the unit KB, and tokens that
// files and fields must contain literally (a holiday notice's holiday/workday, a time limit's 60cd).
const ALLOWED = new Set(['XLSX', 'CSV', 'GeoJSON', 'QR', 'KB', 'holiday', 'workday', 'cd'])

describe('locales', () => {
  const zhFlat = flatten(zh)
  const enFlat = flatten(en)

  it('have the same keys', () => {
    expect(Object.keys(enFlat).sort()).toEqual(Object.keys(zhFlat).sort())
  })

  it('leave no English word in zh-CN', () => {
    const offenders: string[] = []
    for (const [key, text] of Object.entries(zhFlat)) {
      const words = text.replace(/\{\w+\}/g, '').match(/[A-Za-z]{2,}/g) ?? []
      for (const w of words) if (!ALLOWED.has(w)) offenders.push(`${key}: ${w}`)
    }
    expect(offenders).toEqual([])
  })

  it('leave no Chinese in English', () => {
    const offenders = Object.entries(enFlat).filter(([, text]) => /[\u4e00-\u9fff]/.test(text)).map(([k]) => k)
    expect(offenders).toEqual([])
  })

  it('use the same placeholders in both', () => {
    for (const [key, text] of Object.entries(zhFlat)) {
      const ph = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort()
      expect(ph(enFlat[key]), key).toEqual(ph(text))
    }
  })
})

describe('screens', () => {
  it('write their visible text through the translator, not as English in the templates', async () => {
    const fs = await import('node:fs')
    const path = await import('node:path')
    const { parse } = await import('@vue/compiler-dom')
    const root = path.resolve(__dirname, '../src')
    const files: string[] = []
    const walk = (d: string) => {
      for (const f of fs.readdirSync(d, { withFileTypes: true })) {
        if (f.isDirectory()) walk(path.join(d, f.name))
        else if (f.name.endsWith('.vue')) files.push(path.join(d, f.name))
      }
    }
    walk(root)
    const offenders: string[] = []
    type Node = { type: number; content?: unknown; children?: Node[]; props?: { type: number; name: string; value?: { content: string } }[] }
    const visit = (node: Node, file: string) => {
      // 2 = text between tags; 6 = a static attribute (labels, placeholders, titles shown to people).
      if (node.type === 2 && typeof node.content === 'string') check(node.content, file)
      for (const p of node.props ?? []) if (p.type === 6 && ['label', 'placeholder', 'title', 'description'].includes(p.name) && p.value) check(p.value.content, file)
      for (const c of node.children ?? []) visit(c, file)
    }
    const check = (text: string, file: string) => {
      for (const w of text.match(/[A-Za-z]{2,}/g) ?? []) if (!ALLOWED.has(w) && w !== 'English') offenders.push(`${path.basename(file)}: ${text.trim()}`)
    }
    for (const file of files) {
      const src = fs.readFileSync(file, 'utf8')
      const template = src.slice(src.indexOf('<template>') + 10, src.lastIndexOf('</template>'))
      visit(parse(template) as unknown as Node, file)
    }
    expect(offenders).toEqual([])
  })
})
