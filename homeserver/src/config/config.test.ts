import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, parseBind } from './config.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The path of a config file `name` in a temporary directory, removed after these tests. */
function configPath(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-cfg-'));
  dirs.push(dir);
  return join(dir, name);
}

test('it should run the trial default without a config file: localhost, ./data, 127.0.0.1:8008, open registration', () => {
  const c = loadConfig({});
  assert.equal(c.server_name, 'localhost');
  assert.equal(c.data_dir, './data');
  assert.equal(c.listeners[0].bind, '127.0.0.1:8008');
  assert.equal(c.registration.open, true);
  assert.equal(c.rate_limit.enabled, true);
});

test('it should read a YAML file with registration closed by default and let flags override it', () => {
  const file = configPath('parley.yaml');
  writeFileSync(file, 'server_name: hr.example.org\nlisteners:\n  - bind: 0.0.0.0:8448\nlog:\n  level: warn\n');
  const c = loadConfig({ config: file });
  assert.equal(c.server_name, 'hr.example.org');
  assert.equal(c.registration.open, false);
  assert.equal(c.log.level, 'warn');
  const o = loadConfig({ config: file, serverName: '127.0.0.1:8448', listen: '127.0.0.1:9000', noRateLimit: true, openRegistration: true });
  assert.equal(o.server_name, '127.0.0.1:8448');
  assert.equal(o.listeners[0].bind, '127.0.0.1:9000');
  assert.equal(o.rate_limit.enabled, false);
  assert.equal(o.registration.open, true);
});

test('it should refuse unknown keys and wrong types, naming the key', () => {
  const file = configPath('bad.yaml');
  writeFileSync(file, 'server_nmae: x\n');
  assert.throws(() => loadConfig({ config: file }), /server_nmae|Unrecognized/);
  writeFileSync(file, 'rate_limit:\n  enabled: "yes"\n');
  assert.throws(() => loadConfig({ config: file }), /rate_limit\.enabled/);
});

test('it should accept every spec-valid server name, IP literals with ports included, and refuse others', () => {
  for (const name of ['localhost', 'hr.example.org', 'hr.example.org:8448', '127.0.0.1:8448', '[::1]:8448', '[1234:5678::abcd]']) {
    assert.equal(loadConfig({ serverName: name }).server_name, name);
  }
  for (const name of ['bad name', 'example.org:', 'example.org:99999', '::1', 'a/b']) {
    assert.throws(() => loadConfig({ serverName: name }), /invalid server name/, name);
  }
});

test('it should parse IPv4, IPv6 and named listen addresses and reject bad ones', () => {
  assert.deepEqual(parseBind('127.0.0.1:8008'), { host: '127.0.0.1', port: 8008 });
  assert.deepEqual(parseBind('[::1]:8448'), { host: '::1', port: 8448 });
  assert.deepEqual(parseBind('localhost:1'), { host: 'localhost', port: 1 });
  assert.throws(() => parseBind('localhost'));
  assert.throws(() => parseBind('a:70000'));
});

test('it should default the media section as Synapse does: 50 MiB uploads, frozen unauthenticated media, no URL previews', () => {
  const m = loadConfig({}).media;
  assert.equal(m.max_upload_size, 50 * 1024 * 1024);
  assert.equal(m.legacy_unauthenticated, false);
  assert.equal(m.url_preview_enabled, false);
  assert.deepEqual(m.url_preview_ip_range_whitelist, []);
  const file = configPath('media.yaml');
  writeFileSync(file, 'media:\n  url_preview_enabled: true\n  url_preview_ip_range_whitelist: ["10.1.0.0/16"]\n');
  assert.deepEqual(loadConfig({ config: file }).media.url_preview_ip_range_whitelist, ['10.1.0.0/16']);
  writeFileSync(file, 'media:\n  url_preview_ip_range_blacklist: ["intranet.example"]\n');
  assert.throws(() => loadConfig({ config: file }), /media\.url_preview_ip_range_blacklist/);
});

test('it should default federation to on with the public IP blocklist, and add every --federation-ca to ca_files', () => {
  const f = loadConfig({}).federation;
  assert.equal(f.enabled, true);
  assert.equal(f.ip_range_blocklist, undefined, 'unset means the built-in list of private ranges');
  assert.deepEqual(f.notaries, []);
  const file = configPath('fed.yaml');
  writeFileSync(
    file,
    'federation:\n  ca_files: [/etc/a.pem]\n  ip_range_allowlist: ["127.0.0.1/32"]\n  address_overrides: {"hr.corp": "10.0.0.5:8448"}\n',
  );
  const cfg = loadConfig({ config: file, federationCa: ['/tmp/b.pem', '/tmp/c.pem'] }).federation;
  assert.deepEqual(cfg.ca_files, ['/etc/a.pem', '/tmp/b.pem', '/tmp/c.pem']);
  assert.deepEqual(cfg.address_overrides, { 'hr.corp': '10.0.0.5:8448' });
  writeFileSync(file, 'federation:\n  ip_range_allowlist: ["not-an-ip"]\n');
  assert.throws(() => loadConfig({ config: file }), /federation\.ip_range_allowlist/);
});

test('it should hash passwords at scrypt cost 2^15 by default and refuse a weak cost unless allow_weak is set', () => {
  const c = loadConfig({});
  assert.deepEqual(c.password_hashing, { scrypt_log_n: 15, allow_weak: false, max_concurrent: 2 });
  const file = configPath('hash.yaml');
  writeFileSync(file, 'password_hashing:\n  scrypt_log_n: 10\n');
  assert.throws(() => loadConfig({ config: file }), /password_hashing\.scrypt_log_n.*allow_weak/);
  writeFileSync(file, 'password_hashing:\n  scrypt_log_n: 10\n  allow_weak: true\n  max_concurrent: 1\n');
  assert.deepEqual(loadConfig({ config: file }).password_hashing, { scrypt_log_n: 10, allow_weak: true, max_concurrent: 1 });
  writeFileSync(file, 'password_hashing:\n  scrypt_log_n: 16\n');
  assert.equal(loadConfig({ config: file }).password_hashing.scrypt_log_n, 16);
});
