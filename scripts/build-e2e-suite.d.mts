export declare const SUITE_SOURCES: string;
export declare const SUITE_OUT: string;

/** Compiles test/e2e/suite to test/e2e/.build/suite (skipped when unchanged). */
export declare function buildE2eSuite(): Promise<{ outDir: string; entry: string }>;
