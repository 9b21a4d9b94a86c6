/**
 * A database worker for the e2e page in which OPFS sync access handles do not exist, as in
 * browsers or modes without them: the real worker entry, with the API removed before the page's
 * first call reaches it (OPFS support is checked when the database opens).
 */
import '../../worker/worker-entry.ts';

delete (FileSystemFileHandle.prototype as { createSyncAccessHandle?: unknown }).createSyncAccessHandle;
