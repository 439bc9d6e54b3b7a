// Structured JSON logs (pino); a readable format for development terminals.
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export function createLogger(level: string, format: 'json' | 'pretty' | undefined): Logger {
  const usePretty = format ? format === 'pretty' : process.stdout.isTTY === true;
  return usePretty
    ? pino({ level }, pretty({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss.l' }))
    : pino({ level });
}
