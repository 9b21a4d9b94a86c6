/**
 * What every benchmark group gets: the run mode, repeat counts, and shared, lazily started
 * resources (the bench browser, the sync server), so a group run alone starts only what it needs.
 */
import { BenchBrowser } from './browser.ts';
import { startBenchSyncServer, syncServerUnavailable } from './sync-server.ts';
import type { BenchSyncServer } from './sync-server.ts';
import type { Metric } from './metrics.ts';

/** A benchmark group. */
export interface BenchGroup {
  /** Name used with `--group`. */
  readonly name: string;
  /** What it measures (issue 6 item). */
  readonly title: string;
  /** Every metric the group reports in this mode, so a failed or blocked group still lists them all. */
  metrics(quick: boolean): ReadonlyArray<{ metric: string; unit: string }>;
  /** Runs the group; returns its metrics (measured or blocked). */
  run(ctx: BenchContext): Promise<Metric[]>;
}

/** Shared state of one run. */
export class BenchContext {
  private browserInstance: BenchBrowser | undefined;
  private browserHasSync = false;
  private server: BenchSyncServer | undefined;

  constructor(readonly quick: boolean) {}

  /** Repeat count: `quick` in --quick mode, `full` otherwise. */
  repeats(quick: number, full: number): number {
    return this.quick ? quick : full;
  }

  log(message: string): void {
    console.log(`  ${message}`);
  }

  /** Why the sync server cannot run here, or undefined. */
  syncUnavailable(): string | undefined {
    return syncServerUnavailable();
  }

  /** The sync server (started on first use, one per run). */
  async syncServer(): Promise<BenchSyncServer> {
    this.server ??= await startBenchSyncServer();
    return this.server;
  }

  /**
   * The bench browser. With `withSync`, its page server proxies /sync to the sync server (a
   * browser started without it is restarted).
   */
  async browser(withSync = false): Promise<BenchBrowser> {
    if (this.browserInstance && withSync && !this.browserHasSync) {
      await this.browserInstance.close();
      this.browserInstance = undefined;
    }
    if (!this.browserInstance) {
      const syncUrl = withSync ? (await this.syncServer()).baseUrl : undefined;
      this.browserInstance = await BenchBrowser.start(syncUrl);
      this.browserHasSync = withSync;
    }
    return this.browserInstance;
  }

  async close(): Promise<void> {
    await this.browserInstance?.close();
    this.browserInstance = undefined;
    await this.server?.close();
    this.server = undefined;
  }
}
