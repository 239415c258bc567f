/**
 * The memory store's errors. The HTTP layer maps them to status codes (not found 404, busy 409, rejected 409,
 * input 400); each carries what the caller needs to say why (the field, the running consolidation, the file).
 */

/** A document, consolidation or version that does not exist. */
export class MemoryNotFoundError extends Error {
  constructor(
    readonly entity: "document" | "consolidation" | "version",
    readonly id: string | number,
  ) {
    super(`${entity} ${id} not found`);
    this.name = "MemoryNotFoundError";
  }
}

/** A consolidation was asked for while another one runs (at most one at a time). */
export class ConsolidationBusyError extends Error {
  constructor(readonly runningId: number) {
    super(`consolidation ${runningId} is running; only one runs at a time`);
    this.name = "ConsolidationBusyError";
  }
}

/** Activating a version the gate rejected, without `force`. */
export class VersionRejectedError extends Error {
  constructor(
    readonly versionId: number,
    readonly reason: string | null,
  ) {
    super(`version ${versionId} was rejected${reason ? ` (${reason})` : ""}; activate it with force to use it anyway`);
    this.name = "VersionRejectedError";
  }
}

/** Invalid input to the store; `field` names it (`text`, `probes[0].question`, ...). */
export class MemoryInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = "MemoryInputError";
  }
}

/** The database file cannot be used: not SQLite, corrupt, unreadable, or written by a newer seal. */
export class MemoryStoreOpenError extends Error {
  constructor(
    readonly file: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot open the memory store ${file}: ${reason}`, options);
    this.name = "MemoryStoreOpenError";
  }
}
