/** One line that reads (or points) outside the repository. */
export interface OutsideRead {
  file: string;
  line: number;
  text: string;
  why: string;
}
/** Findings for one file's text; `rel` is the file's `/`-separated path relative to `root`. */
export function scanText(root: string, rel: string, text: string): OutsideRead[];
/** Scans every code file of the repository at `root`; empty when clean. */
export function findOutsideReads(root: string): OutsideRead[];
