import assert from "node:assert/strict";
import { test } from "node:test";
import { startSchedule } from "../../src/server/schedule.js";

test("a cron schedule plans its next window; a bad expression names the flag", () => {
  const schedule = startSchedule(
    { cron: "0 3 * * *" },
    async () => {},
    () => {},
  );
  assert.ok(schedule);
  const next = schedule.next();
  assert.ok(next instanceof Date && next.getTime() > Date.now());
  assert.equal(next.getMinutes(), 0);
  assert.equal(next.getHours(), 3);
  schedule.stop();
  assert.throws(
    () =>
      startSchedule(
        { cron: "not a cron" },
        async () => {},
        () => {},
      ),
    /--consolidate-cron/,
  );
  assert.throws(
    () =>
      startSchedule(
        { cron: "* * * * *", everyMs: 3_600_000 },
        async () => {},
        () => {},
      ),
    /not both/,
  );
  assert.equal(
    startSchedule(
      {},
      async () => {},
      () => {},
    ),
    null,
  );
});

test("an interval schedule fires, and a failing run is logged, not thrown", async () => {
  const logs: string[] = [];
  let runs = 0;
  const schedule = startSchedule(
    { everyMs: 1000 },
    async () => {
      runs++;
      throw new Error("busy");
    },
    (line) => logs.push(line),
  );
  await new Promise((resolve) => setTimeout(resolve, 2300));
  schedule?.stop();
  assert.ok(runs >= 2, `ran ${runs} times in 2.3 s`);
  assert.match(logs[0], /scheduled consolidation: busy/);
});
