// Runs the compiled tests with node's test runner (TAP, passed straight through) and ends with one verdict line,
// "tests: N passed, N failed, N skipped", read from the runner's own closing counts; exits with the runner's code.
import { spawn } from "node:child_process";

const args = ["--test", "--test-concurrency=1", "--test-reporter=tap", ...process.argv.slice(2)];
const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
const counts = {};
let pending = "";
child.stdout.on("data", (chunk) => {
  process.stdout.write(chunk);
  const lines = (pending + chunk.toString("utf8")).split("\n");
  pending = lines.pop();
  for (const line of lines) {
    // the closing counts are top-level diagnostics ("# pass 12"); nested tests' lines are indented
    const match = /^# (tests|pass|fail|cancelled|skipped|todo) (\d+)$/.exec(line);
    if (match) counts[match[1]] = Number(match[2]);
  }
});
child.on("close", (code, signal) => {
  if (counts.tests === undefined) {
    console.log(`tests: the runner ended (${signal ?? `exit ${code}`}) without its closing counts`);
    process.exit(code || 1);
  }
  const failed = counts.fail + (counts.cancelled ?? 0);
  console.log(`tests: ${counts.pass} passed, ${failed} failed, ${counts.skipped} skipped`);
  process.exit(code ?? 1);
});
