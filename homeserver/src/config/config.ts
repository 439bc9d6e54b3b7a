// Parley's configuration: the YAML file's schema with every default, and the
// command-line flags that override it. README.md documents every key.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { isValidServerName } from '@parley/federation/core/ids';

// An IPv4/IPv6 address or CIDR range, e.g. 10.0.0.0/8 or fd00::/8.
const ipRange = z.string().regex(/^[0-9a-fA-F.:]+(\/\d{1,3})?$/, 'expected an IP address or CIDR range');

const MEDIA_DEFAULTS = {
  max_upload_size: 50 * 1024 * 1024,
  // Synapse's default since 1.120 (enable_authenticated_media: true): the deprecated
  // /_matrix/media/v3 download and thumbnail endpoints are frozen for new media.
  legacy_unauthenticated: false,
  max_pending_uploads: 5,
  pending_upload_lifetime_ms: 24 * 60 * 60 * 1000,
  max_image_pixels: 32_000_000,
  url_preview_enabled: false,
  url_preview_ip_range_whitelist: [] as string[],
  url_preview_ip_range_blacklist: [] as string[],
};

const mediaSchema = z
  .object({
    max_upload_size: z.number().int().positive().default(MEDIA_DEFAULTS.max_upload_size),
    legacy_unauthenticated: z.boolean().default(MEDIA_DEFAULTS.legacy_unauthenticated),
    max_pending_uploads: z.number().int().positive().default(MEDIA_DEFAULTS.max_pending_uploads),
    pending_upload_lifetime_ms: z.number().int().positive().default(MEDIA_DEFAULTS.pending_upload_lifetime_ms),
    max_image_pixels: z.number().int().positive().default(MEDIA_DEFAULTS.max_image_pixels),
    url_preview_enabled: z.boolean().default(MEDIA_DEFAULTS.url_preview_enabled),
    url_preview_ip_range_whitelist: z.array(ipRange).default([]),
    url_preview_ip_range_blacklist: z.array(ipRange).default([]),
  })
  .strict();

export type MediaConfig = z.infer<typeof mediaSchema>;

// Federation (README.md "Federation"). Unset ip_range_blocklist = Synapse's default list of
// private, loopback and link-local ranges; department deployments list their ranges in the allowlist.
const federationSchema = z
  .object({
    enabled: z.boolean().default(true),
    ca_files: z.array(z.string()).default([]),
    ip_range_blocklist: z.array(ipRange).optional(),
    ip_range_allowlist: z.array(ipRange).default([]),
    server_name_allowlist: z.array(z.string()).optional(),
    server_name_denylist: z.array(z.string()).default([]),
    address_overrides: z.record(z.string(), z.string()).default({}),
    notaries: z
      .array(z.object({ server_name: z.string(), verify_keys: z.record(z.string(), z.string()).optional() }).strict())
      .default([]),
    request_timeout_ms: z.number().int().positive().default(60_000),
  })
  .strict();

export type FederationConfig = z.infer<typeof federationSchema>;

// Server notices (README.md "Server notices"): absent = off, as in Synapse.
const serverNoticesSchema = z
  .object({
    /** The system user that sends notices, created on start; registering this name is then taken. */
    system_mxid_localpart: z.string().regex(/^[a-z0-9._=\-/+]+$/, 'expected a lower-case localpart'),
    system_mxid_display_name: z.string().min(1).optional(),
    system_mxid_avatar_url: z.string().startsWith('mxc://').optional(),
    room_name: z.string().min(1).default('Server Notices'),
  })
  .strict();

export type ServerNoticesConfig = z.infer<typeof serverNoticesSchema>;

const bucket = z.object({ per_second: z.number().positive(), burst: z.number().int().positive() }).strict();

/** Below this scrypt cost (log2 N) a stolen database is cheap to brute-force; only with `allow_weak`. */
export const MIN_SCRYPT_LOG_N = 14;

// Password hashing (README.md "Configuration reference"): the counterpart of Synapse's
// `bcrypt_rounds`. Each step of `scrypt_log_n` doubles the time and memory of a hash.
const passwordHashingSchema = z
  .object({
    scrypt_log_n: z.number().int().min(1).max(20).default(15),
    /** Accept a cost below MIN_SCRYPT_LOG_N (tests, benchmarks): never in production. */
    allow_weak: z.boolean().default(false),
    /** Hashes computed at once; more wait, so LevelDB keeps threads of libuv's pool (4 by default). */
    max_concurrent: z.number().int().min(1).max(64).default(2),
  })
  .strict()
  .refine((v) => v.allow_weak || v.scrypt_log_n >= MIN_SCRYPT_LOG_N, {
    message: `scrypt_log_n below ${MIN_SCRYPT_LOG_N} is too weak for production; set allow_weak: true for tests and benchmarks`,
    path: ['scrypt_log_n'],
  });

export type PasswordHashingConfig = z.infer<typeof passwordHashingSchema>;

export const configSchema = z
  .object({
    /** The server name that user IDs end with; a DNS name or IP literal with optional port. */
    server_name: z.string().default('localhost'),
    /** Where the database lives. */
    data_dir: z.string().default('./data'),
    /** The base URL clients use to reach this server (for /.well-known/matrix/client). */
    public_baseurl: z.string().url().optional(),
    listeners: z
      .array(
        z
          .object({
            bind: z.string().default('127.0.0.1:8008'),
            tls_cert: z.string().optional(),
            tls_key: z.string().optional(),
          })
          .strict(),
      )
      .default([{ bind: '127.0.0.1:8008' }]),
    registration: z
      .object({
        open: z.boolean().default(false),
        shared_secret: z.string().min(1).optional(),
        /** Registering needs a registration token (admin API); enables registration even when `open` is false. */
        requires_token: z.boolean().default(false),
      })
      .strict()
      .default({ open: false, requires_token: false }),
    rate_limit: z
      .object({
        enabled: z.boolean().default(true),
        message: bucket.default({ per_second: 10, burst: 50 }),
        login: bucket.default({ per_second: 0.5, burst: 5 }),
        register: bucket.default({ per_second: 0.2, burst: 5 }),
        general: bucket.default({ per_second: 50, burst: 200 }),
      })
      .strict()
      .default({
        enabled: true,
        message: { per_second: 10, burst: 50 },
        login: { per_second: 0.5, burst: 5 },
        register: { per_second: 0.2, burst: 5 },
        general: { per_second: 50, burst: 200 },
      }),
    log: z
      .object({
        level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
        format: z.enum(['json', 'pretty']).optional(),
      })
      .strict()
      .default({ level: 'info' }),
    /** Presence (online/idle/offline, status messages); off → /presence says offline, /sync has none. */
    presence: z.object({ enabled: z.boolean().default(true) }).strict().default({ enabled: true }),
    /** Accept the deprecated `access_token` query parameter that older clients and bots send. */
    allow_access_token_in_query: z.boolean().default(true),
    /** The media repository (README.md "Configuration reference" explains each key). */
    /** Server-server API: discovery, TLS trust, allow/deny lists, notaries (README.md "Federation"). */
    federation: federationSchema.default(() => federationSchema.parse({})),
    /** The server notices room (README.md "Server notices"); absent: POST /_synapse/admin/v1/send_server_notice is refused. */
    server_notices: serverNoticesSchema.optional(),
    media: mediaSchema.default(() => ({ ...MEDIA_DEFAULTS, url_preview_ip_range_whitelist: [], url_preview_ip_range_blacklist: [] })),
    password_hashing: passwordHashingSchema.default(() => passwordHashingSchema.parse({})),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;

/** Flags of `parley serve`; each overrides the matching config key. */
export interface ServeFlags {
  config?: string;
  serverName?: string;
  listen?: string;
  data?: string;
  tlsCert?: string;
  tlsKey?: string;
  openRegistration?: boolean;
  registrationSharedSecret?: string;
  noRateLimit?: boolean;
  logLevel?: string;
  /** Extra CA files trusted for outbound federation (repeatable --federation-ca). */
  federationCa?: string[];
}

/**
 * The effective configuration. Without a config file Parley runs its trial default:
 * `localhost` on 127.0.0.1:8008, data in ./data, registration open (main.ts warns loudly).
 */
export function loadConfig(flags: ServeFlags): Config {
  const raw: Record<string, unknown> = flags.config
    ? ((parseYaml(readFileSync(flags.config, 'utf8')) as Record<string, unknown> | null) ?? {})
    : { registration: { open: true } };
  const res = configSchema.safeParse(raw);
  if (!res.success) {
    const i = res.error.issues[0];
    throw new Error(`invalid configuration at '${i.path.join('.')}': ${i.message}`);
  }
  const cfg = res.data;
  if (flags.serverName) cfg.server_name = flags.serverName;
  if (flags.data) cfg.data_dir = flags.data;
  // Only the first listener: others in the file (e.g. a separate federation listener) stay.
  if (flags.listen) cfg.listeners = [{ ...cfg.listeners[0], bind: flags.listen }, ...cfg.listeners.slice(1)];
  if (flags.tlsCert || flags.tlsKey) {
    if (!flags.tlsCert || !flags.tlsKey) throw new Error('--tls-cert and --tls-key go together');
    cfg.listeners[0] = { ...cfg.listeners[0], tls_cert: flags.tlsCert, tls_key: flags.tlsKey };
  }
  if (flags.openRegistration) cfg.registration.open = true;
  if (flags.registrationSharedSecret) cfg.registration.shared_secret = flags.registrationSharedSecret;
  if (flags.noRateLimit) cfg.rate_limit.enabled = false;
  if (flags.federationCa?.length) cfg.federation.ca_files = [...cfg.federation.ca_files, ...flags.federationCa];
  if (flags.logLevel) cfg.log.level = z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).parse(flags.logLevel);
  // Spec: appendices.md "Server Name" — it ends every user ID, so a bad one must stop the start.
  if (!isValidServerName(cfg.server_name)) throw new Error(`invalid server name '${cfg.server_name}': expected a DNS name or IP literal, optionally with :port`);
  return cfg;
}

/** Split `host:port` / `[v6]:port` into its parts. */
export function parseBind(bind: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(bind);
  if (!m) throw new Error(`listen address must be HOST:PORT, got '${bind}'`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`port out of range in '${bind}'`);
  return { host: m[1] ?? m[2], port };
}
