/**
 * The client sync engine (runs next to SQLite in the dedicated worker, or in Node for tests).
 * @packageDocumentation
 */
export { SyncEngine } from './engine.ts';
export { systemClock } from './system-clock.ts';
export { SyncError } from './errors.ts';
export type { EngineErrorCode } from './errors.ts';
export { dropCaptureTriggers, installCaptureFunction } from './capture.ts';
export type {
  AttachResult,
  ConflictContext,
  ConflictEventDetail,
  ConflictResolution,
  ConflictResolver,
  ConflictStrategy,
  DetachOptions,
  DetachResult,
  EngineClock,
  PullResult,
  PushResult,
  RowLostDetail,
  RowLostReason,
  SelfHealDetail,
  SyncedTable,
  SyncEngineOptions,
  SyncErrorInfo,
  SyncEvent,
  SyncPhase,
  SyncResult,
  SyncStatus,
  SyncThenDetachResult,
} from './types.ts';
