// A small reactive translator: `t('intake.title')`, `t('common.total', { n: 3 })`. zh-CN by default, English
// on request; the choice is kept in localStorage.
import { ref } from 'vue'
import zh from './zh-CN'
import en from './en'

export type Locale = 'zh-CN' | 'en'
export const messages: Record<Locale, unknown> = { 'zh-CN': zh, en }

const saved = typeof localStorage !== 'undefined' ? localStorage.getItem('fq.locale') : null
export const locale = ref<Locale>(saved === 'en' ? 'en' : 'zh-CN')

export function setLocale(l: Locale) {
  locale.value = l
  localStorage.setItem('fq.locale', l)
  document.documentElement.lang = l
}

function lookup(tree: unknown, key: string): string | undefined {
  let node: unknown = tree
  for (const part of key.split('.')) {
    if (node && typeof node === 'object' && part in (node as object)) node = (node as Record<string, unknown>)[part]
    else return undefined
  }
  return typeof node === 'string' ? node : undefined
}

export function t(key: string, params: Record<string, string | number> = {}): string {
  const text = lookup(messages[locale.value], key) ?? lookup(messages['zh-CN'], key) ?? key
  return text.replace(/\{(\w+)\}/g, (_, k: string) => (k in params ? String(params[k]) : `{${k}}`))
}

/** The label of an enum value (`enums.status.in_progress`), or the value itself when unknown. */
export function te(group: string, value: string | null | undefined): string {
  if (!value) return ''
  const key = `enums.${group}.${value}`
  const text = t(key)
  return text === key ? value : text
}
