#!/usr/bin/env node
import { runAdminCommand } from './cli/admin.js';
import { ConfigError } from './config.js';
import { startServer } from './server.js';

const USAGE = `Usage: switchboard <command>

Commands:
  start                         Run the control plane (embedded PostgreSQL unless DATABASE_URL is set)
  admin user add --email E [--name N] [--role admin|member|viewer]
  admin user list [--role R] [--all]
  admin token create [--user EMAIL|ID] [--name N] [--days D]

Admin commands talk to a running control plane:
  --url     (or SWITCHBOARD_URL)    default http://127.0.0.1:7420
  --token   (or SWITCHBOARD_TOKEN)  default: the admin-token file in SWITCHBOARD_DATA_DIR
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'start') return start();
  if (command === 'admin') return runAdminCommand(rest);
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return command === undefined ? 1 : 0;
  }
  process.stderr.write(`Unknown command "${command}".\n\n${USAGE}`);
  return 1;
}

async function start(): Promise<number> {
  const server = await startServer();
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.app.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      process.stderr.write('Shutdown took longer than 30 s; exiting anyway.\n');
      process.exit(1);
    }, 30_000);
    force.unref();
    await server.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  return new Promise(() => {});
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigError) process.stderr.write(`${error.message}\n`);
    else process.stderr.write(`switchboard: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
