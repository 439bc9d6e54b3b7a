// Rows travel between processes as JSON files; this keeps infinite latencies intact.
// No side effects: the runner imports it.

/** JSON has no ±Infinity (a latency with lost deliveries is infinite): written as strings. */
export function jsonReplacer(_key: string, v: unknown): unknown {
  return typeof v === 'number' && !Number.isFinite(v) && !Number.isNaN(v) ? (v > 0 ? 'Infinity' : '-Infinity') : v;
}

export function jsonReviver(_key: string, v: unknown): unknown {
  return v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v;
}
