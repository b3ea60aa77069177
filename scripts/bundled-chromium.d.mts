// Types of bundled-chromium.mjs, for the tests that import it.

/** The bundled browser: its binary and the environment it runs in (bundled NSS libraries and font). */
export function bundledChromium(): Promise<{ executablePath: string; env: NodeJS.ProcessEnv }>;

/** Regular files (contents) and folders (null) of a tar archive, by relative path. */
export function untar(bytes: Buffer): [string, Buffer | null][];
