export declare const NODE24_VERSION: string;
export declare const CODE_SERVER_VERSION: string;
export declare const CHROMIUM: string;

export interface E2eTools {
  /** Node 24's `bin/node`. */
  node24: string;
  /** `…/node_modules/code-server/out/node/entry.js`, to run with `node24`. */
  codeServerEntry: string;
  chromium: string;
  cacheDir: string;
}

export declare function cacheRoot(): string;
export declare function ensureE2eTools(): Promise<E2eTools>;
