// Benchmark results: each benchmark process reports rows; the runner collects them.
// A row is one figure with its target and, where there is one, the ceiling measured in
// the same run (what a minimal pipeline achieves on this machine right now).
import { writeFileSync } from 'node:fs';
import { dumpLogSources } from './cleanup.js';
import { jsonReplacer } from './json.js';
import { log } from './util.js';

export type Op = '<=' | '>=';

export interface Row {
  bench: string;
  figure: string;
  /** null when the figure could not be measured. */
  value: number | null;
  unit: string;
  target?: { op: Op; value: number };
  ceiling?: number | null;
  /** value ÷ ceiling. */
  ratio?: number | null;
  /** true/false against the target; null for figures without a target (context). */
  pass: boolean | null;
  note?: string;
}

export interface RowInput {
  figure: string;
  value: number | null;
  unit: string;
  target?: { op: Op; value: number };
  ceiling?: number | null;
  note?: string;
}

export const le = (value: number) => ({ op: '<=' as const, value });
export const ge = (value: number) => ({ op: '>=' as const, value });

export interface BenchContext {
  readonly name: string;
  row(r: RowInput): Row;
  /** A failed row for a figure that cannot be measured (missing endpoint, setup failure). */
  notAvailable(figure: string, unit: string, target: RowInput['target'], reason: string): Row;
  readonly rows: readonly Row[];
}

export function makeRow(bench: string, r: RowInput): Row {
  const pass =
    r.target === undefined ? null : r.value === null || !Number.isFinite(r.value) ? false : r.target.op === '<=' ? r.value <= r.target.value : r.value >= r.target.value;
  const ratio = r.ceiling != null && r.value != null && r.ceiling !== 0 && Number.isFinite(r.value) ? r.value / r.ceiling : r.ceiling === undefined ? undefined : null;
  return { bench, ...r, pass, ...(ratio !== undefined ? { ratio } : {}) };
}

/**
 * Runs one benchmark body. Rows are written to BENCH_OUT (JSON) after each addition, so
 * that a benchmark the runner has to kill still reports what it measured.
 */
export async function runBenchmark(name: string, body: (ctx: BenchContext) => Promise<void>): Promise<void> {
  const rows: Row[] = [];
  const out = process.env.BENCH_OUT;
  const flush = () => {
    if (out) writeFileSync(out, JSON.stringify(rows, jsonReplacer, 2));
  };
  const ctx: BenchContext = {
    name,
    rows,
    row(r) {
      const row = makeRow(name, r);
      rows.push(row);
      flush();
      const v = row.value === null ? 'n/a' : `${Math.round(row.value * 100) / 100} ${row.unit}`;
      log(`${name}: ${row.figure} = ${v}${row.ceiling != null ? ` (ceiling ${Math.round(row.ceiling * 100) / 100})` : ''}${row.pass === null ? '' : row.pass ? ' PASS' : ' FAIL'}${row.note ? ` — ${row.note}` : ''}`);
      return row;
    },
    notAvailable(figure, unit, target, reason) {
      return ctx.row({ figure, value: null, unit, target, note: `not available: ${reason}` });
    },
  };
  flush();
  try {
    await body(ctx);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    log(`${name}: error: ${err instanceof Error ? err.stack : msg}`);
    dumpLogSources();
    ctx.row({ figure: 'benchmark error', value: null, unit: '', target: ge(1), note: `error: ${msg.split('\n')[0].slice(0, 300)}` });
    flush();
    process.exit(1);
  }
  flush();
  process.exit(0);
}
