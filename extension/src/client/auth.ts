import { ErrorEnvelope, Me } from '@switchboard/protocol';
import * as vscode from 'vscode';

const SECRET_KEY = 'switchboard.token';
const TOKEN_SHAPE = /^sb_[A-Za-z0-9_-]{20,200}$/;

export class SignInError extends Error {}

/** Asks the control plane who a token belongs to; the one check a token gets before it is stored. */
export async function whoAmI(serverUrl: string, token: string, signal?: AbortSignal): Promise<Me> {
  let response: Response;
  try {
    response = await fetch(`${serverUrl}/api/v1/me`, {
      headers: { authorization: `Bearer ${token}` },
      signal: signal ?? AbortSignal.timeout(15_000),
    });
  } catch (error) {
    throw new SignInError(
      `Could not reach Switchboard at ${serverUrl} (${(error as Error).message}). Check the "switchboard.serverUrl" setting and that the control plane runs.`,
    );
  }
  const body: unknown = await response.json().catch(() => null);
  if (response.status === 401)
    throw new SignInError('Switchboard did not accept this token: it may be mistyped, revoked or expired. Ask an admin for a new one.');
  if (!response.ok) {
    const envelope = ErrorEnvelope.safeParse(body);
    const message = envelope.success ? envelope.data.error.message : `HTTP ${response.status}`;
    throw new SignInError(`Switchboard refused the sign-in: ${message}`);
  }
  const me = Me.safeParse(body);
  if (!me.success) throw new SignInError(`${serverUrl} answered, but not like a Switchboard control plane. Check the server URL.`);
  return me.data;
}

/** The user's API token, kept in VS Code's SecretStorage (the OS keychain where there is one). */
export class TokenStore implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<string | undefined>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly secrets: vscode.SecretStorage) {}

  get(): Thenable<string | undefined> {
    return this.secrets.get(SECRET_KEY);
  }

  /** Validates the token with the server, then stores it. */
  async signIn(serverUrl: string, token: string): Promise<Me> {
    const trimmed = token.trim();
    if (!TOKEN_SHAPE.test(trimmed))
      throw new SignInError('A Switchboard token starts with "sb_". Copy it again from `switchboard admin token create` or your admin.');
    const me = await whoAmI(serverUrl, trimmed);
    await this.secrets.store(SECRET_KEY, trimmed);
    this.changed.fire(trimmed);
    return me;
  }

  async signOut(): Promise<void> {
    await this.secrets.delete(SECRET_KEY);
    this.changed.fire(undefined);
  }

  dispose(): void {
    this.changed.dispose();
  }
}

export const looksLikeToken = (value: string) => TOKEN_SHAPE.test(value.trim());
