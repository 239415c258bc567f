/**
 * kill -9 inside createVersion's transaction (crash point `store:create-version`, after every write, before the
 * commit): the file must come back with all of the transaction or none of it.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, it } from "node:test";
import { openMemoryStore } from "../../../src/domains/memory/store.js";
import { CRASH_ENV } from "../../../src/io/crash-point.js";
import { tempStoreDir } from "./store-fixtures.js";

const STORE_MODULE = new URL("../../../src/domains/memory/store.js", import.meta.url).href;

/** Adds three documents, promotes version 1 (a), then version 2 (a, b); prints "done" when it gets to the end. */
function runChild(file: string, crashAt: string | undefined) {
  const script = `
    import { openMemoryStore } from ${JSON.stringify(STORE_MODULE)};
    const store = openMemoryStore(${JSON.stringify(file)});
    const [a, b] = ["alpha", "beta", "gamma"].map((text) => store.addDocument({ text }).document.id);
    const version = (parentId, documentIds) => store.createVersion({
      consolidationId: null, parentId, adapterPath: "adapters/v" + documentIds.length, status: "active",
      reason: null, documentIds,
    });
    const v1 = version(null, [a]);
    version(v1.id, [a, b]);
    store.close();
    process.stdout.write("done\\n");
  `;
  const env = { ...process.env };
  delete env[CRASH_ENV];
  if (crashAt !== undefined) env[CRASH_ENV] = crashAt;
  return spawnSync(process.execPath, ["--input-type=module", "-e", script], { env, encoding: "utf8" });
}

/** Document states by text, the versions (id, status, documents) and the integrity check of `file`. */
function snapshot(file: string) {
  const store = openMemoryStore(file); // runs quick_check: throws on a damaged file
  const states = Object.fromEntries(store.listDocuments().map((d) => [d.text, [d.state, d.consolidatedIn]]));
  const versions = store.listVersions().map((v) => [v.id, v.status, v.documentIds.length]);
  store.close();
  return { states, versions };
}

describe("memory store: kill -9 inside createVersion", () => {
  it("runs to the end without a crash point (the control)", () => {
    const file = path.join(tempStoreDir(), "memory.sqlite");
    const result = runChild(file, undefined);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, "done\n");
    assert.deepEqual(snapshot(file), {
      states: { alpha: ["consolidated", 1], beta: ["consolidated", 2], gamma: ["pending", null] },
      versions: [
        [2, "active", 2],
        [1, "inactive", 1],
      ],
    });
  });

  it("a kill in the first version's transaction leaves no version and every document pending", () => {
    const file = path.join(tempStoreDir(), "memory.sqlite");
    const result = runChild(file, "store:create-version");
    assert.equal(result.signal, "SIGKILL", result.stderr);
    assert.equal(result.stdout, "");
    assert.deepEqual(snapshot(file), {
      states: { alpha: ["pending", null], beta: ["pending", null], gamma: ["pending", null] },
      versions: [],
    });
  });

  it("a kill in the second leaves version 1 active and its documents alone consolidated", () => {
    const file = path.join(tempStoreDir(), "memory.sqlite");
    const result = runChild(file, "store:create-version@2");
    assert.equal(result.signal, "SIGKILL", result.stderr);
    assert.deepEqual(snapshot(file), {
      states: { alpha: ["consolidated", 1], beta: ["pending", null], gamma: ["pending", null] },
      versions: [[1, "active", 1]],
    });
    // The store goes on from there: the same version can be made again, with the next id.
    const store = openMemoryStore(file);
    const beta = store.listDocuments({ state: "pending" })[0].id;
    const v = store.createVersion({
      consolidationId: null,
      parentId: 1,
      adapterPath: "adapters/v2",
      status: "active",
      reason: null,
      documentIds: [store.listDocuments({ state: "consolidated" })[0].id, beta],
    });
    assert.equal(v.status, "active");
    assert.equal(store.getDocument(beta)!.state, "consolidated");
    store.close();
  });
});
