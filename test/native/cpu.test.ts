import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { test } from "node:test";
import { chooseOpenBlasCoreType, fasterCoreType, hasAvx512, readCpuInfo } from "../../src/native/cpu.js";
import { REPO_ROOT } from "../io/fixtures.js";

const AVX512 = new Set(["avx2", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"]);
const AVX2 = new Set(["avx2", "fma"]);

test("core type: AVX-512 on AMD is forced (Cooperlake with bf16); Intel and AVX2-only CPUs are left to OpenBLAS", () => {
  assert.equal(chooseOpenBlasCoreType(AVX512, true), "SKYLAKEX");
  assert.equal(chooseOpenBlasCoreType(new Set([...AVX512, "avx512_bf16"]), true), "COOPERLAKE");
  assert.equal(chooseOpenBlasCoreType(AVX512, false), null);
  assert.equal(chooseOpenBlasCoreType(AVX2, true), null);
});

test("a preset core type is flagged only when it leaves this CPU's AVX-512 unused", () => {
  const amd = { flags: new Set([...AVX512, "avx512_bf16"]), amd: true };
  assert.equal(fasterCoreType("Haswell", amd), "COOPERLAKE");
  assert.equal(fasterCoreType("ZEN", { flags: AVX512, amd: false }), "SKYLAKEX");
  for (const fits of ["SkylakeX", "COOPERLAKE", "sapphirerapids"]) assert.equal(fasterCoreType(fits, amd), null, fits);
  assert.equal(fasterCoreType(undefined, amd), null);
  assert.equal(fasterCoreType(" ", amd), null);
  assert.equal(fasterCoreType("Haswell", { flags: AVX2, amd: true }), null, "no AVX-512: Haswell is the best");
});

test("seal doctor --json: a Haswell preset on an AVX-512 CPU is reported with both measured speeds", () => {
  const run = (coreType: string) =>
    spawnSync(process.execPath, [path.join(REPO_ROOT, "bin/seal.js"), "doctor", "--json"], {
      cwd: REPO_ROOT,
      encoding: "utf8",
      env: { ...process.env, OPENBLAS_CORETYPE: coreType },
    });
  const preset = run("Haswell");
  assert.equal(preset.status, 0, preset.stderr);
  const report = JSON.parse(preset.stdout);
  assert.equal(report.coreTypeSource, "environment");
  assert.equal(report.blas.core, "Haswell");
  if (hasAvx512(readCpuInfo().flags)) {
    assert.equal(report.coreTypeCost.preset, "Haswell");
    assert.ok(report.coreTypeCost.presetSpeed.gflops > 0);
    assert.equal(report.coreTypeCost.fasterError, null);
    assert.notEqual(report.coreTypeCost.fasterSpeed.core, "Haswell");
    assert.ok(report.coreTypeCost.fasterSpeed.gflops > 0);
  } else {
    assert.equal(report.coreTypeCost, null, "without AVX-512, Haswell leaves nothing unused");
  }
  const unset = JSON.parse(run("").stdout);
  assert.notEqual(unset.coreTypeSource, "environment");
  assert.equal(unset.coreTypeCost, null);
});
