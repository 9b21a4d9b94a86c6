/** Where the checked-in API report lives. */
export const REPORT_PATH: string;
/** package.json exports with types, as [subpath, source file relative to the repository root]. */
export function exportedEntries(): Array<[string, string]>;
/** The API report text for the current sources. */
export function buildReport(): string;
