// Push rule actions: validation of what clients send, and what a matched rule means.
// Spec: client-server-api/modules/push.md "Actions", "Historical Actions".
import type { PushAction } from './types.js';

/** Ignored wherever they appear (push.md "Historical Actions"). */
const HISTORICAL = new Set(['dont_notify', 'coalesce']);

/** The actions without historical ones; undefined when one is not understood (Synapse refuses those). */
export function normaliseActions(actions: unknown[]): PushAction[] | undefined {
  const out: PushAction[] = [];
  for (const a of actions) {
    if (typeof a === 'string') {
      if (HISTORICAL.has(a)) continue;
      if (a !== 'notify') return undefined;
      out.push(a);
    } else if (typeof a === 'object' && a !== null && !Array.isArray(a) && typeof (a as Record<string, unknown>).set_tweak === 'string') {
      out.push(a as PushAction);
    } else {
      return undefined;
    }
  }
  return out;
}

export interface ActionOutcome {
  notify: boolean;
  highlight: boolean;
  sound?: string;
  /** set_tweak name → value, for the push gateway (`highlight` with no value is true). */
  tweaks: Record<string, unknown>;
}

export function interpretActions(actions: readonly PushAction[]): ActionOutcome {
  let notify = false;
  const tweaks: Record<string, unknown> = {};
  for (const a of actions) {
    if (a === 'notify') notify = true;
    else if (typeof a === 'object' && typeof a.set_tweak === 'string') {
      tweaks[a.set_tweak] = a.set_tweak === 'highlight' && !('value' in a) ? true : a.value;
    }
  }
  const out: ActionOutcome = { notify, highlight: Boolean(tweaks.highlight), tweaks };
  if (typeof tweaks.sound === 'string') out.sound = tweaks.sound;
  return out;
}
