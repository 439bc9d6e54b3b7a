// Test support: a throwaway CA and a server certificate it issued, for HTTPS tests on
// 127.0.0.1. Keys come from node:crypto; Node cannot build X.509, so `openssl` signs.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  caCert: string;
  /** Path of caCert on disk (for extraCaFiles). */
  caCertFile: string;
  serverCert: string;
  serverKey: string;
  cleanup(): void;
}

/** A CA plus a leaf certificate for `sans` (e.g. `['IP:127.0.0.1', 'DNS:hs.test']`). */
export function makeTestPki(sans: readonly string[]): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'parley-pki-'));
  const path = (f: string) => join(dir, f);
  const pem = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  writeFileSync(path('ca.key'), pem());
  writeFileSync(path('leaf.key'), pem());
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  openssl('req', '-x509', '-new', '-key', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=Parley Test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  openssl('req', '-new', '-key', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=parley-test-server');
  writeFileSync(path('leaf.ext'), `basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=${sans.join(',')}\n`);
  openssl('x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'leaf.crt',
    '-days', '2', '-extfile', 'leaf.ext');
  return {
    caCert: readFileSync(path('ca.crt'), 'utf8'),
    caCertFile: path('ca.crt'),
    serverCert: readFileSync(path('leaf.crt'), 'utf8'),
    serverKey: readFileSync(path('leaf.key'), 'utf8'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
