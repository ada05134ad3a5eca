import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../control-plane/src/config.js';

describe('loadConfig', () => {
  it('has working defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ host: '127.0.0.1', port: 7420, logLevel: 'info', databaseUrl: undefined, auditPrompts: 'full' });
    expect(config.dataDir).toBe(path.resolve('.switchboard'));
  });

  it('reads every variable', () => {
    const config = loadConfig({
      SWITCHBOARD_HOST: '0.0.0.0',
      SWITCHBOARD_PORT: '8080',
      SWITCHBOARD_DATA_DIR: '/var/lib/sb',
      DATABASE_URL: 'postgres://u:p@db:5432/sb',
      SWITCHBOARD_LOG_LEVEL: 'debug',
      SWITCHBOARD_AUDIT_PROMPTS: 'hash',
    });
    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: 8080,
      dataDir: '/var/lib/sb',
      databaseUrl: 'postgres://u:p@db:5432/sb',
      logLevel: 'debug',
      auditPrompts: 'hash',
    });
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ SWITCHBOARD_PORT: '', DATABASE_URL: '' })).toMatchObject({ port: 7420, databaseUrl: undefined });
  });

  it('fails with one readable line per bad variable, hiding the database URL', () => {
    let error: unknown;
    try {
      loadConfig({ SWITCHBOARD_PORT: 'eighty', SWITCHBOARD_LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://secret@x' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('SWITCHBOARD_PORT="eighty"');
    expect(message).toContain('SWITCHBOARD_LOG_LEVEL="loud"');
    expect(message).toContain('DATABASE_URL=(hidden): must start with postgres://');
    expect(message).not.toContain('secret');
  });

  it('trusts no proxy by default, and only named proxies when told', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ SWITCHBOARD_TRUST_PROXY: 'off' }).trustProxy).toBe(false);
    expect(loadConfig({ SWITCHBOARD_TRUST_PROXY: '10.0.0.0/8, 127.0.0.1,::1,loopback' }).trustProxy).toEqual([
      '10.0.0.0/8',
      '127.0.0.1',
      '::1',
      'loopback',
    ]);
    for (const bad of ['true', '1', '10.0.0.0/33', 'proxy.internal', '10.0.0.1/8/1']) {
      expect(() => loadConfig({ SWITCHBOARD_TRUST_PROXY: bad }), bad).toThrow(
        /SWITCHBOARD_TRUST_PROXY=.*must be off or a comma-separated list/,
      );
    }
  });

  it('keeps audit rows 30 days at least unless told otherwise, and never less than a day', () => {
    expect(loadConfig({})).toMatchObject({ auditMinRetentionDays: 30, auditAnchorIntervalS: 60 });
    expect(loadConfig({ SWITCHBOARD_AUDIT_MIN_RETENTION_DAYS: '365' }).auditMinRetentionDays).toBe(365);
    expect(() => loadConfig({ SWITCHBOARD_AUDIT_MIN_RETENTION_DAYS: '0' })).toThrow(/SWITCHBOARD_AUDIT_MIN_RETENTION_DAYS="0"/);
  });
});
