import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { describe, it } from "node:test";
import { Worker } from "node:worker_threads";
import Database from "better-sqlite3";
import { ConsolidationBusyError, MemoryStoreOpenError } from "../../../src/domains/memory/errors.js";
import { migrate, SCHEMA_VERSION } from "../../../src/domains/memory/migrations.js";
import { openMemoryStore } from "../../../src/domains/memory/store.js";
import { tempStoreDir } from "./store-fixtures.js";

function userVersion(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return db.pragma("user_version", { simple: true }) as number;
  } finally {
    db.close();
  }
}

const isOpenError = (file: string, pattern: RegExp) => (error: unknown) =>
  error instanceof MemoryStoreOpenError &&
  error.file === file &&
  error.message.includes(file) &&
  pattern.test(error.message);

describe("memory store: opening and migrations", () => {
  it("creates the folder and the schema; re-opening keeps the data and migrates nothing", () => {
    const file = path.join(tempStoreDir(), "nested", "data", "memory.sqlite");
    const store = openMemoryStore(file);
    const { document } = store.addDocument({ text: "kept across opens" });
    store.close();
    store.close(); // closing twice is harmless
    assert.equal(userVersion(file), SCHEMA_VERSION);
    const again = openMemoryStore(file);
    assert.deepEqual(again.getDocument(document.id), document);
    assert.equal(again.search("kept", { states: ["pending"], limit: 5 }).length, 1);
    again.close();
  });

  it("uses WAL, foreign keys and the busy timeout given", () => {
    const file = path.join(tempStoreDir(), "memory.sqlite");
    const store = openMemoryStore(file, { busyTimeoutMs: 1234 });
    const db = (store as unknown as { db: Database.Database }).db;
    assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
    assert.equal(db.pragma("foreign_keys", { simple: true }), 1);
    assert.equal(db.pragma("synchronous", { simple: true }), 1); // NORMAL
    assert.equal(db.pragma("busy_timeout", { simple: true }), 1234);
    store.close();
  });

  it("applies a later migration to an existing file in a transaction; a failing one changes nothing", () => {
    const file = path.join(tempStoreDir(), "memory.sqlite");
    openMemoryStore(file).close();
    const db = new Database(file);
    const v1 = [{ version: SCHEMA_VERSION, sql: "" }];
    const broken = [
      ...v1,
      { version: SCHEMA_VERSION + 1, sql: "CREATE TABLE extra (x); SELECT * FROM missing_table;" },
    ];
    assert.throws(() => migrate(db, file, broken), /missing_table/);
    assert.equal(db.pragma("user_version", { simple: true }), SCHEMA_VERSION);
    assert.deepEqual(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'extra'").get(), { n: 0 });
    const good = [...v1, { version: SCHEMA_VERSION + 1, sql: "CREATE TABLE extra (x);" }];
    assert.deepEqual(migrate(db, file, good), [SCHEMA_VERSION + 1]);
    assert.deepEqual(migrate(db, file, good), []);
    assert.equal(db.pragma("user_version", { simple: true }), SCHEMA_VERSION + 1);
    db.close();
    // This seal's code is now older than the file.
    assert.throws(() => openMemoryStore(file), isOpenError(file, /schema is version \d+, newer than this seal's/));
  });

  it("refuses a file that is not SQLite, or a corrupt one, naming it", () => {
    const dir = tempStoreDir();
    const text = path.join(dir, "text.sqlite");
    fs.writeFileSync(
      text,
      "this is not a database, just some text that is long enough to look like a header\n".repeat(20),
    );
    assert.throws(() => openMemoryStore(text), isOpenError(text, /not a database/));

    const corrupt = path.join(dir, "corrupt.sqlite");
    const store = openMemoryStore(corrupt);
    for (let i = 0; i < 200; i++) store.addDocument({ text: `document number ${i} ${"padding ".repeat(40)}` });
    store.close();
    const bytes = fs.readFileSync(corrupt);
    const pageSize = bytes.readUInt16BE(16);
    // Scribble over every page but the first (the header and schema stay readable, the b-trees do not).
    for (let offset = pageSize; offset < bytes.length; offset += pageSize) bytes.fill(0xa5, offset + 8, offset + 64);
    fs.writeFileSync(corrupt, bytes);
    assert.throws(() => openMemoryStore(corrupt), isOpenError(corrupt, /integrity check failed|malformed/));

    const folder = path.join(dir, "a-folder");
    fs.mkdirSync(folder);
    assert.throws(() => openMemoryStore(folder), isOpenError(folder, /./));
  });
});

describe("memory store: two connections", () => {
  it("each sees the other's writes; only one consolidation runs across both", () => {
    const file = path.join(tempStoreDir(), "memory.sqlite");
    const server = openMemoryStore(file);
    const worker = openMemoryStore(file);
    const { document } = server.addDocument({ text: "written by the server" });
    assert.deepEqual(worker.getDocument(document.id), document);
    assert.equal(worker.search("server", { states: ["pending"], limit: 5 })[0].document.id, document.id);
    const running = worker.startConsolidation({
      trigger: "schedule",
      documentIds: [document.id],
      parentVersionId: null,
      mode: "incremental",
      settings: {},
    });
    assert.equal(server.runningConsolidation()!.id, running.id);
    assert.throws(
      () =>
        server.startConsolidation({
          trigger: "manual",
          documentIds: [],
          parentVersionId: null,
          mode: "rebuild",
          settings: {},
        }),
      (error: unknown) => error instanceof ConsolidationBusyError && error.runningId === running.id,
    );
    worker.createVersion({
      consolidationId: running.id,
      parentId: null,
      adapterPath: "adapters/c1",
      status: "active",
      reason: null,
      documentIds: [document.id],
    });
    worker.updateConsolidation(running.id, { state: "promoted", phase: "done" });
    assert.equal(server.getDocument(document.id)!.state, "consolidated");
    assert.equal(server.activeVersion()!.consolidationId, running.id);
    server.forgetDocument(document.id);
    assert.equal(worker.getDocument(document.id)!.state, "forgotten");
    server.close();
    worker.close();
  });

  it("works from a worker thread beside the main thread's connection (the consolidation worker's case)", async () => {
    const file = path.join(tempStoreDir(), "memory.sqlite");
    const main = openMemoryStore(file);
    const { document } = main.addDocument({ text: "consolidate me" });
    const storeModule = new URL("../../../src/domains/memory/store.js", import.meta.url).href;
    const worker = new Worker(
      `
        const { parentPort, workerData } = require("node:worker_threads");
        import(workerData.storeModule).then(({ openMemoryStore }) => {
          const store = openMemoryStore(workerData.file);
          const c = store.startConsolidation({
            trigger: "schedule", documentIds: [workerData.id], parentVersionId: null, mode: "incremental", settings: {},
          });
          store.saveSelfEdits(c.id, workerData.id, ["a self-edit"]);
          store.close();
          parentPort.postMessage(c.id);
        });
      `,
      { eval: true, workerData: { file, storeModule, id: document.id } },
    );
    const id = await new Promise<number>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
    await worker.terminate();
    assert.equal(main.runningConsolidation()!.id, id);
    assert.deepEqual(main.selfEditsOf(id), new Map([[document.id, ["a self-edit"]]]));
    main.close();
  });

  it("a write waits for the other connection's transaction within the busy timeout, and fails past it", async () => {
    const file = path.join(tempStoreDir(), "memory.sqlite");
    openMemoryStore(file).close();
    // Another process takes the write lock and holds it for `holdMs`.
    const holdLock = (holdMs: number) =>
      new Promise<{ done: Promise<number | null> }>((resolve, reject) => {
        const script = `
          const Database = require(${JSON.stringify(createRequire(import.meta.url).resolve("better-sqlite3"))});
          const db = new Database(${JSON.stringify(file)});
          db.exec("BEGIN IMMEDIATE");
          db.prepare("INSERT INTO documents (id, content_hash, kind, title, text, state, created_at) VALUES ('doc_other${holdMs}', 'h${holdMs}', 'document', 't', 'from the other process', 'pending', 'now')").run();
          process.stdout.write("locked\\n");
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ${holdMs});
          db.exec("COMMIT");
          db.close();
        `;
        const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
        const done = new Promise<number | null>((resolveDone) =>
          child.on("exit", (code) => {
            resolveDone(code);
            reject(new Error(`the lock holder exited with ${code} before taking the lock`));
          }),
        );
        child.stdout.once("data", () => resolve({ done }));
        child.on("error", reject);
      });

    const patient = openMemoryStore(file, { busyTimeoutMs: 10_000 });
    const lock = await holdLock(400);
    const startedAt = Date.now();
    const added = patient.addDocument({ text: "waits for the lock" });
    const waitedMs = Date.now() - startedAt;
    assert.equal(added.created, true);
    assert.ok(waitedMs >= 200, `waited ${waitedMs} ms for a lock held 400 ms`);
    assert.equal(await lock.done, 0);
    assert.equal(patient.getDocument("doc_other400")!.text, "from the other process");
    patient.close();

    const impatient = openMemoryStore(file, { busyTimeoutMs: 50 });
    const lock2 = await holdLock(1500);
    assert.throws(() => impatient.addDocument({ text: "cannot wait that long" }), /database is locked/);
    assert.equal(await lock2.done, 0);
    assert.equal(impatient.addDocument({ text: "cannot wait that long" }).created, true);
    impatient.close();
  });
});
