// Parley set up to federate with a generated remote on loopback: it trusts the remote's
// test CA and may connect to 127.0.0.1 (README.md "Federation": ca_files,
// ip_range_allowlist). Plus a probe for whether an endpoint exists at all.
import type { Parley } from '../lib/parley.js';
import { startParley } from '../lib/parley.js';
import { makeAgent, request, target } from '../lib/http.js';
import type { RemoteServer } from './remoteServer.js';

export async function startFederatingParley(remote: RemoteServer): Promise<Parley> {
  const yaml = ['federation:', `  ca_files: [${JSON.stringify(remote.caFile)}]`, "  ip_range_allowlist: ['127.0.0.1/32']", ''].join('\n');
  try {
    return await startParley({ configYaml: yaml });
  } catch (err) {
    const msg = (err as Error).message;
    const line = msg.split('\n').find((l) => /federation|unrecognized|unknown/i.test(l)) ?? msg.split('\n')[0];
    throw new FederationUnavailable(`Parley would not start with a federation section in its config (${line.trim().slice(0, 200)})`);
  }
}

export class FederationUnavailable extends Error {}

/**
 * Whether Parley routes `method path` at all: an unauthenticated request must be refused
 * (401/403/400), not unrecognised (404 M_UNRECOGNIZED / 405).
 */
export async function probeRoute(server: Parley, method: string, path: string): Promise<string | undefined> {
  const res = await request(target(server.baseUrl, makeAgent(2)), method, path, method === 'GET' ? {} : { body: {} });
  const errcode = res.json()?.errcode as string | undefined;
  if (res.status === 404 && (errcode === 'M_UNRECOGNIZED' || errcode === undefined)) return `the server has no ${method} ${path.replace(/\/[^/]*$/, '/…')} (HTTP 404 ${errcode ?? ''})`.trim();
  if (res.status === 405) return `the server has no ${method} ${path} (HTTP 405)`;
  return undefined;
}
