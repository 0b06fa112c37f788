// Which actions on a case the page offers, from the user's permissions and the case's status (the server
// decides; this only avoids offering what would certainly be refused), and what each action asks for.

export type FieldKind = 'text' | 'textarea' | 'unit' | 'units' | 'days' | 'outcome' | 'datetime' | 'decision' | 'number' | 'leader'

export interface ActionField { name: string; label: string; kind: FieldKind; required?: boolean; minLength?: number }

export interface ActionSpec {
  action: string
  label: string // i18n key
  type?: 'primary' | 'success' | 'warning' | 'danger' | 'default'
  fields: ActionField[]
  /** Fixed values sent with the action. */
  fixed?: Record<string, unknown>
}

const reason = (label: string): ActionField => ({ name: 'reason', label, kind: 'textarea', required: true, minLength: 4 })

export const ACTIONS: Record<string, ActionSpec> = {
  accept: { action: 'accept', label: 'console.accept', type: 'primary', fields: [] },
  reject: { action: 'reject', label: 'intake.reject', type: 'danger', fields: [reason('intake.rejectReason')], fixed: { missing: [] } },
  dispatch: {
    action: 'dispatch', label: 'console.dispatch', type: 'primary',
    fields: [{ name: 'lead', label: 'console.dispatchTo', kind: 'unit', required: true }, { name: 'assisting', label: 'console.assisting', kind: 'units' }],
  },
  claim: { action: 'claim', label: 'case.claim', type: 'primary', fields: [] },
  return: { action: 'return', label: 'case.return', type: 'warning', fields: [reason('case.returnReason')] },
  rule_on_return_redispatch: {
    action: 'rule_on_return', label: 'console.redispatch', type: 'primary', fixed: { decision: 'redispatch' },
    fields: [
      { name: 'lead', label: 'console.dispatchTo', kind: 'unit', required: true },
      { name: 'assisting', label: 'console.assisting', kind: 'units' },
      { name: 'note', label: 'case.noteText', kind: 'textarea' },
    ],
  },
  rule_on_return_uphold: {
    action: 'rule_on_return', label: 'console.uphold', type: 'warning', fixed: { decision: 'uphold' },
    fields: [{ name: 'note', label: 'case.noteText', kind: 'textarea', required: true }],
  },
  reassign: {
    action: 'reassign', label: 'console.dispatch', type: 'default',
    fields: [{ name: 'lead', label: 'console.dispatchTo', kind: 'unit', required: true }, { name: 'assisting', label: 'console.assisting', kind: 'units' }, reason('case.returnReason')],
  },
  request_extension: {
    action: 'request_extension', label: 'case.extension', type: 'default',
    fields: [{ name: 'working_days', label: 'case.extensionDays', kind: 'days', required: true }, reason('case.extensionReason')],
  },
  approve_extension: { action: 'decide_extension', label: 'case.approveExtension', type: 'success', fixed: { approve: true }, fields: [{ name: 'note', label: 'case.noteText', kind: 'text' }] },
  deny_extension: { action: 'decide_extension', label: 'case.denyExtension', type: 'danger', fixed: { approve: false }, fields: [{ name: 'note', label: 'case.noteText', kind: 'text', required: true }] },
  escalate: { action: 'escalate', label: 'case.escalate', type: 'warning', fields: [reason('case.escalateReason')] },
  resolve: { action: 'resolve', label: 'case.resolve', type: 'success', fields: [{ name: 'result', label: 'case.resolveResult', kind: 'textarea', required: true, minLength: 4 }] },
  approve_review: { action: 'approve_review', label: 'console.approve', type: 'success', fields: [] },
  send_back: { action: 'send_back', label: 'console.sendBack', type: 'warning', fields: [reason('case.returnReason')] },
  follow_up: {
    action: 'follow_up', label: 'followUp.record', type: 'primary',
    fields: [{ name: 'outcome', label: 'followUp.outcome', kind: 'outcome', required: true }, { name: 'note', label: 'followUp.note', kind: 'textarea' }],
  },
  reopen: { action: 'reopen', label: 'case.reopen', type: 'warning', fields: [reason('followUp.reopenReason')] },
  archive: { action: 'archive', label: 'case.archive', type: 'default', fields: [] },
  supervise: {
    action: 'supervise', label: 'console.supervise', type: 'warning',
    fields: [{ name: 'due', label: 'console.superviseDue', kind: 'datetime', required: true }, { name: 'note', label: 'console.superviseNote', kind: 'textarea', required: true }],
  },
  assign_leader: { action: 'assign_leader', label: 'console.leader', type: 'default', fields: [{ name: 'leader_user_id', label: 'console.leaderUser', kind: 'leader', required: true }] },
  add_note: { action: 'add_note', label: 'case.addNote', type: 'default', fields: [{ name: 'text', label: 'case.noteText', kind: 'textarea', required: true }] },
}

export interface CaseLike { status: string; pending_extension?: unknown; claimed_by?: number | null }

/** The actions offered for a case, by key of ACTIONS, in the order shown. */
export function offeredActions(c: CaseLike, permissions: readonly string[]): string[] {
  const can = (p: string) => permissions.includes(p)
  const out: string[] = []
  const s = c.status
  if (can('accept_cases') && s === 'registered') out.push('accept', 'reject')
  if (can('dispatch_cases')) {
    if (s === 'accepted') out.push('dispatch')
    if (s === 'returned') out.push('rule_on_return_redispatch', 'rule_on_return_uphold')
    if (s === 'dispatched' || s === 'in_progress') out.push('reassign')
    if (c.pending_extension) out.push('approve_extension', 'deny_extension')
    if (s === 'resolved') out.push('approve_review', 'send_back')
    if (s === 'awaiting_follow_up') out.push('follow_up', 'reopen')
    if (s === 'closed') out.push('archive', 'reopen')
  }
  if (can('handle_cases')) {
    if (s === 'dispatched') out.push('claim', 'return')
    if (s === 'in_progress') out.push('resolve', 'return', 'request_extension', 'escalate')
  }
  const open = !['closed', 'archived', 'rejected', 'merged'].includes(s)
  if (can('supervise_cases') && open && s !== 'registered') out.push('supervise')
  if ((can('dispatch_cases') || can('receive_petitioners')) && open) out.push('assign_leader')
  if (open && (can('handle_cases') || can('dispatch_cases') || can('accept_cases'))) out.push('add_note')
  return [...new Set(out)]
}

/** Checks an action's filled-in fields; returns field name → i18n key of the problem. */
export function validateAction(spec: ActionSpec, values: Record<string, unknown>): Record<string, string> {
  const errors: Record<string, string> = {}
  for (const f of spec.fields) {
    const v = values[f.name]
    const empty = v === undefined || v === null || v === '' || (Array.isArray(v) && !v.length)
    if (f.required && empty) errors[f.name] = 'validation.required'
    else if (typeof v === 'string' && f.minLength && v.trim().length < f.minLength) errors[f.name] = 'validation.reasonTooShort'
    else if (f.kind === 'days' && !empty && !(Number.isInteger(Number(v)) && Number(v) >= 1 && Number(v) <= 30)) errors[f.name] = 'validation.required'
  }
  return errors
}
