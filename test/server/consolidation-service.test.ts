import assert from "node:assert/strict";
import path from "node:path";
import { after, before, test } from "node:test";
import { ConsolidationBusyError, VersionRejectedError } from "../../src/domains/memory/errors.js";
import { ConsolidationService } from "../../src/server/consolidation-service.js";
import { type RunningGenerationService, startGenerationService } from "../../src/server/generation/client.js";
import {
  addPassages,
  heldOutPassages,
  MINI_MODEL,
  smallSettings,
  type TempData,
  tempData,
} from "../domains/memory/consolidate-fixtures.js";

let data: TempData;
let generation: RunningGenerationService;
const logs: string[] = [];

function service(teacherDir: string | null = null): ConsolidationService {
  return new ConsolidationService({
    store: data.store,
    storeFile: path.join(data.dataDir, "memory.sqlite"),
    dataDir: data.dataDir,
    modelDir: MINI_MODEL,
    teacherDir,
    generation,
    settings: smallSettings(),
    log: (line) => logs.push(line),
  });
}

before(async () => {
  data = tempData();
  generation = await startGenerationService({ modelDir: MINI_MODEL, adapterDir: null, maxBatch: 4, maxQueue: 8 });
});
after(async () => {
  await generation.close();
  data.cleanup();
});

test("a consolidation runs in a worker, one at a time, and a promoted version serves at once", async () => {
  const control = service();
  addPassages(data.store, heldOutPassages(1));
  const started = await control.start("manual");
  assert.equal(started.state, "running");
  assert.equal(control.running()?.id, started.id);
  await assert.rejects(control.start("manual"), ConsolidationBusyError);
  // The event loop keeps turning while the worker trains.
  let longestGap = 0;
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    longestGap = Math.max(longestGap, now - last);
    last = now;
  }, 5);
  await control.idle();
  clearInterval(ticker);
  assert.ok(longestGap < 250, `the event loop stalled ${longestGap.toFixed(0)} ms during a consolidation`);
  assert.equal(control.running(), null);
  const finished = data.store.getConsolidation(started.id);
  assert.ok(
    finished && ["promoted", "rejected"].includes(finished.state),
    `state ${finished?.state}: ${logs.join("\n")}`,
  );
  assert.notEqual(finished.versionId, null);
  const version = data.store.getVersion(finished.versionId as number);
  assert.ok(version);
  if (finished.state === "promoted") {
    assert.equal(version.status, "active");
    assert.equal(generation.stats().adapter, path.join(data.dataDir, version.adapterPath as string));
  } else {
    assert.equal(version.status, "rejected");
    assert.equal(generation.stats().adapter, null);
    await assert.rejects(control.activate(version.id), VersionRejectedError);
    const forced = await control.activate(version.id, { force: true });
    assert.equal(forced.status, "active");
    assert.equal(generation.stats().adapter, path.join(data.dataDir, version.adapterPath as string));
  }
  await control.close();
});

test("nothing pending: the consolidation is recorded as skipped", async () => {
  const control = service();
  const skipped = await control.start("schedule");
  assert.equal(skipped.state, "skipped");
  assert.equal(control.running(), null);
  await control.close();
});

test("a consolidation stopped mid-way stays running and the next service resumes and finishes it", async () => {
  const first = service();
  addPassages(data.store, heldOutPassages(1, 1));
  const started = await first.start("manual");
  await new Promise((resolve) => setTimeout(resolve, 300));
  await first.close();
  assert.equal(data.store.getConsolidation(started.id)?.state, "running");
  const second = service();
  const resumed = second.resumeInterrupted();
  assert.equal(resumed?.id, started.id);
  await second.idle();
  const finished = data.store.getConsolidation(started.id);
  assert.ok(
    finished && ["promoted", "rejected"].includes(finished.state),
    `state ${finished?.state}: ${logs.join("\n")}`,
  );
  assert.equal(data.store.runningConsolidation(), null);
  await second.close();
});

test("with a teacher, the teacher writes the self-edits (--teacher)", async () => {
  const control = service(MINI_MODEL);
  addPassages(data.store, heldOutPassages(1, 2));
  const started = await control.start("manual");
  await control.idle();
  const finished = data.store.getConsolidation(started.id);
  assert.ok(
    finished && ["promoted", "rejected"].includes(finished.state),
    `state ${finished?.state}: ${logs.join("\n")}`,
  );
  const selfEdits = finished.report?.selfEdits as { writer: string } | undefined;
  assert.equal(selfEdits?.writer, "teacher");
  await control.close();
});
