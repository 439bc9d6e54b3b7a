// The `parley` command.
import { parseArgs } from 'node:util';
import { loadConfig, type ServeFlags } from './config/config.js';
import { createLogger } from './logger.js';
import { startHomeserver } from './main.js';
import { createUserCommand, setAdminCommand } from './admin/cliAdmin.js';

const HELP = `parley — a Matrix homeserver for organisations

Usage:
  parley serve [flags]     run the homeserver
  parley admin set-admin USER_ID [--revoke] [--config FILE | --data DIR]
                           grant (or revoke) server admin; the server must be stopped
  parley admin create-user LOCALPART --password P [--admin] [--config FILE | --data DIR] [--server-name NAME]
                           create an account (e.g. the first admin); the server must be stopped
  parley --help            show this help

Flags of 'parley serve' (each overrides the config file):
  --config FILE                     YAML configuration file (see README.md for every key)
  --server-name NAME                server name, e.g. hr.example.org or 127.0.0.1:8448
  --listen HOST:PORT                address of the (first) listener
  --data DIR                        database directory
  --tls-cert FILE --tls-key FILE    serve HTTPS on the listener with this certificate and key
  --open-registration               let anyone register (trials only)
  --registration-shared-secret S    enable Synapse-compatible shared-secret registration
  --no-rate-limit                   turn rate limiting off
  --federation-ca FILE              trust this CA (PEM) for outbound federation; repeatable
  --log-level LEVEL                 trace, debug, info, warn, error, fatal or silent

Without --config, Parley runs its trial default: server name localhost,
http://127.0.0.1:8008, data in ./data, open registration.
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(HELP);
    return command ? 0 : 1;
  }
  if (command === 'admin') return adminCommand(rest);
  if (command !== 'serve') {
    process.stderr.write(`unknown command '${command}'\n\n${HELP}`);
    return 2;
  }
  const { values } = parseArgs({
    args: rest,
    strict: true,
    options: {
      config: { type: 'string' },
      'server-name': { type: 'string' },
      listen: { type: 'string' },
      data: { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'open-registration': { type: 'boolean' },
      'registration-shared-secret': { type: 'string' },
      'no-rate-limit': { type: 'boolean' },
      'federation-ca': { type: 'string', multiple: true },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const flags: ServeFlags = {
    config: values.config,
    serverName: values['server-name'],
    listen: values.listen,
    data: values.data,
    tlsCert: values['tls-cert'],
    tlsKey: values['tls-key'],
    openRegistration: values['open-registration'],
    registrationSharedSecret: values['registration-shared-secret'],
    noRateLimit: values['no-rate-limit'],
    federationCa: values['federation-ca'],
    logLevel: values['log-level'],
  };
  const config = loadConfig(flags);
  const logger = createLogger(config.log.level, config.log.format);
  const server = await startHomeserver(config, logger);
  await new Promise<void>((resolve) => {
    const onSignal = (sig: string) => {
      logger.info({ signal: sig }, 'shutting down');
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  await server.stop();
  return 0;
}

/** `parley admin …`: works on the database directly (admin/cliAdmin.ts). */
async function adminCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    strict: true,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      data: { type: 'string' },
      'server-name': { type: 'string' },
      revoke: { type: 'boolean' },
      password: { type: 'string' },
      admin: { type: 'boolean' },
    },
  });
  const config = loadConfig({ config: values.config, data: values.data, serverName: values['server-name'] });
  if (sub === 'set-admin' && positionals.length === 1) {
    process.stdout.write(`${await setAdminCommand(config, positionals[0], !values.revoke)}\n`);
    return 0;
  }
  if (sub === 'create-user' && positionals.length === 1 && values.password) {
    process.stdout.write(`${await createUserCommand(config, positionals[0], values.password, values.admin ?? false)}\n`);
    return 0;
  }
  process.stderr.write(`usage error in 'parley admin'\n\n${HELP}`);
  return 2;
}
