// Ports for benchmark servers: the range 19000–19999 only. Each benchmark process gets
// its own slice (BENCH_PORT_BASE, set by the runner) and hands ports out in order,
// skipping any that are busy.
import { createServer } from 'node:net';

const RANGE_START = 19000;
const RANGE_END = 19999;
let next = clampBase(Number(process.env.BENCH_PORT_BASE ?? RANGE_START + 900));

function clampBase(n: number): number {
  return Number.isInteger(n) && n >= RANGE_START && n <= RANGE_END ? n : RANGE_START + 900;
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** The next free loopback port of this process's slice of 19000–19999. */
export async function allocPort(): Promise<number> {
  for (let tries = 0; tries < 200; tries++) {
    const port = next;
    next = next >= RANGE_END ? RANGE_START : next + 1;
    if (await isFree(port)) return port;
  }
  throw new Error('no free port in 19000–19999');
}
