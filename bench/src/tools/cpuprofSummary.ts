// Summarises V8 .cpuprofile files (from `node --cpu-prof`): the functions with the most
// self time and the most inclusive time, and self time per source area.
// Usage: node bench/dist/tools/cpuprofSummary.js <file.cpuprofile> [top=25]
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const ROOT = new URL('../../../', import.meta.url).pathname;

function shortUrl(url: string): string {
  return url.replace(/^file:\/\//, '').replace(ROOT, '');
}

function label(f: CallFrame): string {
  const u = shortUrl(f.url);
  return `${f.functionName || '(anonymous)'} ${u ? `${u}:${f.lineNumber + 1}` : ''}`.trim();
}

function area(f: CallFrame): string {
  const u = shortUrl(f.url);
  if (!u) return f.functionName.startsWith('(') ? f.functionName : '(native)';
  if (u.startsWith('node:')) return u.split('/')[0].replace(/^node:internal.*/, 'node:internal');
  const m = /^(?:node_modules\/((?:@[^/]+\/)?[^/]+))/.exec(u);
  if (m) return `npm:${m[1]}`;
  const parts = u.split('/');
  return parts.slice(0, Math.min(parts.length - 1, 3)).join('/');
}

export function summarise(path: string, top = 25): string {
  const p = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  const areas = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0;
    const node = byId.get(p.samples[i]);
    if (!node) continue;
    total += dt;
    const l = label(node.callFrame);
    self.set(l, (self.get(l) ?? 0) + dt);
    areas.set(area(node.callFrame), (areas.get(area(node.callFrame)) ?? 0) + dt);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const lab = label(byId.get(id)!.callFrame);
      if (seen.has(lab)) continue;
      seen.add(lab);
      incl.set(lab, (incl.get(lab) ?? 0) + dt);
    }
  }
  const ms = (us: number) => (us / 1000).toFixed(0).padStart(7);
  const pct = (us: number) => ((100 * us) / total).toFixed(1).padStart(5) + '%';
  const topOf = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
  const lines = [`profile ${path}: ${(total / 1e6).toFixed(1)} s sampled`, '', 'self time by area:'];
  for (const [k, v] of topOf(areas, 15)) lines.push(`${ms(v)} ms ${pct(v)}  ${k}`);
  lines.push('', 'self time by function:');
  for (const [k, v] of topOf(self, top)) lines.push(`${ms(v)} ms ${pct(v)}  ${k}`);
  lines.push('', 'inclusive time by function (excluding idle/program/GC roots):');
  for (const [k, v] of topOf(incl, top + 15).filter(([k]) => !/^\((root|program|idle|garbage collector)\)/.test(k)).slice(0, top)) lines.push(`${ms(v)} ms ${pct(v)}  ${k}`);
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: cpuprofSummary.js <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  process.stdout.write(summarise(file, Number(process.argv[3] ?? 25)) + '\n');
}
