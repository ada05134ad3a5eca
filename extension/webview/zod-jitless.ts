import { z } from 'zod';

// Zod compiles object parsers with `new Function` unless told not to, and probes for it while the
// protocol's schemas are built. The webview CSP forbids eval and reports the probe as a violation,
// so this module must be imported before anything that imports `@switchboard/protocol`.
z.config({ jitless: true });
