// Bundles the test page (page/main.ts, compiled to dist by tsc) with esbuild and serves it,
// with the crypto's WebAssembly, on loopback. The wasm package loads its module from
// `new URL('./pkg/…wasm', import.meta.url)`, which in the bundle is /pkg/… on this server.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ENTRY = fileURLToPath(new URL('./page/main.js', import.meta.url));
const WASM_FILE = 'matrix_sdk_crypto_wasm_bg.wasm';

export interface PageServer {
  readonly url: string;
  close(): Promise<void>;
}

async function bundlePage(): Promise<Uint8Array> {
  const res = await build({
    entryPoints: [ENTRY],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'chrome120',
    write: false,
    outfile: 'main.js',
    logLevel: 'silent',
  });
  const js = res.outputFiles.find((f) => f.path.endsWith('main.js'));
  if (!js) throw new Error('esbuild produced no main.js');
  return js.contents;
}

async function wasmModule(): Promise<Buffer> {
  // The package's Node entry sits beside its pkg/ directory.
  const entry = fileURLToPath(import.meta.resolve('@matrix-org/matrix-sdk-crypto-wasm'));
  return readFile(join(dirname(entry), 'pkg', WASM_FILE));
}

export async function servePage(): Promise<PageServer> {
  const [js, wasm] = await Promise.all([bundlePage(), wasmModule()]);
  const files = new Map<string, { type: string; body: Uint8Array }>([
    ['/', { type: 'text/html; charset=utf-8', body: Buffer.from('<!doctype html><meta charset="utf-8"><title>Parley E2EE test page</title><script type="module" src="/main.js"></script>') }],
    ['/main.js', { type: 'text/javascript; charset=utf-8', body: js }],
    [`/pkg/${WASM_FILE}`, { type: 'application/wasm', body: wasm }],
  ]);
  const server = createServer((req, res) => {
    const file = files.get(new URL(req.url ?? '/', 'http://x').pathname);
    res.writeHead(file ? 200 : 404, { 'Content-Type': file?.type ?? 'text/plain', 'Cache-Control': 'no-store' });
    res.end(file?.body ?? 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
