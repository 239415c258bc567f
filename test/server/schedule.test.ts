import assert from "node:assert/strict";
import { test } from "node:test";
import { parseInterval, startSchedule } from "../../src/server/schedule.js";

test("intervals: units, combinations and bad input naming the flag", () => {
  assert.equal(parseInterval("6h"), 6 * 3_600_000);
  assert.equal(parseInterval("30m"), 1_800_000);
  assert.equal(parseInterval("1h30m"), 5_400_000);
  assert.equal(parseInterval("1d"), 86_400_000);
  for (const bad of ["", "6", "h", "6x", "-1h", "6h garbage", "0s", "0.5s"])
    assert.throws(() => parseInterval(bad), /--consolidate-every/, bad);
});

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
        { cron: "* * * * *", every: "1h" },
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
    { every: "1s" },
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
