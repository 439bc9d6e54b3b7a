// The CA list outbound TLS trusts. Passing `ca` to Node replaces its default store,
// which would silently drop NODE_EXTRA_CA_CERTS; so we rebuild it: Node's bundled
// roots, that variable's file, then the configured files. Spec: server-server-api.md "TLS".
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';

/** PEM CAs: bundled roots + NODE_EXTRA_CA_CERTS + `extraCaFiles` (each may hold several certificates). */
export function buildTrustedCas(extraCaFiles: readonly string[] = [], env: NodeJS.ProcessEnv = process.env): string[] {
  const files = [...(env.NODE_EXTRA_CA_CERTS ? [env.NODE_EXTRA_CA_CERTS] : []), ...extraCaFiles];
  return [...rootCertificates, ...files.map((f) => readFileSync(f, 'utf8'))];
}
