// Test support: assertions on HTTP answers, with the body in the failure message.
import assert from 'node:assert/strict';
import type { Res } from './http.js';

/** Assert the status (200 unless given) and return the body. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function expectOk(res: Res, status = 200): any {
  assert.equal(res.status, status, JSON.stringify(res.json));
  return res.json;
}

/** Assert a Matrix error: the status, the errcode and a human-readable `error`; returns the body. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function expectError(res: Res, status: number, errcode: string): any {
  assert.equal(res.status, status, JSON.stringify(res.json));
  assert.equal(res.json?.errcode, errcode, JSON.stringify(res.json));
  assert.equal(typeof res.json.error, 'string', JSON.stringify(res.json));
  return res.json;
}

/** A /sync answer without `unsigned.age`, the one field that depends on when it was built. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function withoutAge(answer: unknown): any {
  return JSON.parse(JSON.stringify(answer, (k, v) => (k === 'age' ? undefined : v)));
}
