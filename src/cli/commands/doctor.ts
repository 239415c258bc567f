/**
 * `seal doctor`: what this machine gives seal — the native addon, OpenBLAS and its core type, threads — and, when a
 * core type preset in the environment leaves the CPU's AVX-512 unused, how much that costs, measured: sgemm here
 * and in a child process with the faster core type. The preset is honoured either way (it may be there because an
 * OpenBLAS build misbehaves on this CPU); doctor only says what it costs.
 */
import { spawnSync } from "node:child_process";
import os from "node:os";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import type { SgemmSpeed } from "../../native/blas-speed.js";

export interface CoreTypeCost {
  preset: string;
  faster: string;
  presetSpeed: SgemmSpeed;
  /** null with the reason when the child with the faster core type failed (it may crash on this CPU). */
  fasterSpeed: SgemmSpeed | null;
  fasterError: string | null;
}

export interface DoctorReport {
  node: string;
  cpu: string;
  cpus: number;
  blas: { core: string; config: string; threads: number };
  kernelThreads: number;
  coreTypeSource: "environment" | "seal" | "openblas";
  coreTypeCost: CoreTypeCost | null;
}

const MAIN = fileURLToPath(new URL("../main.js", import.meta.url));

/** sgemm in a fresh process (OpenBLAS reads OPENBLAS_CORETYPE only when it loads) with the given core type. */
function measureInChild(coreType: string): { speed: SgemmSpeed | null; error: string | null } {
  const child = spawnSync(process.execPath, [MAIN, "doctor", "--sgemm-only"], {
    encoding: "utf8",
    env: { ...process.env, OPENBLAS_CORETYPE: coreType },
    timeout: 120_000,
  });
  if (child.status === 0) return { speed: JSON.parse(child.stdout) as SgemmSpeed, error: null };
  const why = child.signal ? `killed by ${child.signal}` : (child.error?.message ?? `exit ${child.status}`);
  return { speed: null, error: `${why}: ${child.stderr.trim().split("\n").pop() ?? ""}` };
}

export async function runDoctor(measure = true): Promise<DoctorReport> {
  const { native, presetOpenBlasCoreType } = await import("../../native/index.js");
  const { fasterCoreType, readCpuInfo } = await import("../../native/cpu.js");
  const { measureSgemm } = await import("../../native/blas-speed.js");
  const info = native.info();
  const faster = fasterCoreType(presetOpenBlasCoreType, readCpuInfo());
  let coreTypeCost: CoreTypeCost | null = null;
  if (faster !== null && presetOpenBlasCoreType !== undefined && measure) {
    const child = measureInChild(faster);
    coreTypeCost = {
      preset: presetOpenBlasCoreType,
      faster,
      presetSpeed: measureSgemm(),
      fasterSpeed: child.speed,
      fasterError: child.error,
    };
  }
  const cpus = os.cpus();
  return {
    node: process.version,
    cpu: cpus[0]?.model.trim() ?? "unknown",
    cpus: cpus.length,
    blas: { core: info.blasCore, config: info.blasConfig, threads: info.blasThreads },
    kernelThreads: info.kernelThreads,
    coreTypeSource: presetOpenBlasCoreType ? "environment" : process.env.OPENBLAS_CORETYPE ? "seal" : "openblas",
    coreTypeCost,
  };
}

/** One paragraph on a core type preset that leaves speed unused, or null; shared by doctor and the benchmark. */
export function coreTypeNote(cost: CoreTypeCost | null): string | null {
  if (cost === null) return null;
  const here = `sgemm ${cost.presetSpeed.gflops.toFixed(0)} GFLOP/s with ${cost.presetSpeed.core}`;
  const measured =
    cost.fasterSpeed === null
      ? `the same measurement with OPENBLAS_CORETYPE=${cost.faster} failed (${cost.fasterError}), so keep the preset`
      : `${cost.fasterSpeed.gflops.toFixed(0)} GFLOP/s with OPENBLAS_CORETYPE=${cost.faster} ` +
        `(${(cost.fasterSpeed.gflops / cost.presetSpeed.gflops).toFixed(2)}×), measured now in a child process`;
  return (
    `note: OPENBLAS_CORETYPE=${cost.preset} is set in the environment and seal honours it, but this CPU has ` +
    `AVX-512 that ${cost.preset} leaves unused: ${here}; ${measured}. Unset it (seal then picks the core type) ` +
    "unless it was set to avoid an OpenBLAS problem on this machine."
  );
}

function formatDoctor(report: DoctorReport): string {
  const lines = [
    `node ${report.node}; ${report.cpus} × ${report.cpu}`,
    `OpenBLAS: ${report.blas.config}`,
    `core type: ${report.blas.core} (chosen by ${report.coreTypeSource === "environment" ? "OPENBLAS_CORETYPE in the environment" : report.coreTypeSource}); ` +
      `threads: OpenBLAS ${report.blas.threads}, kernels ${report.kernelThreads}`,
  ];
  const note = coreTypeNote(report.coreTypeCost);
  lines.push(note ?? "core type: fits this CPU");
  return `${lines.join("\n")}\n`;
}

export function registerDoctor(program: Command): void {
  program
    .command("doctor")
    .description(
      "check what this machine gives seal: native addon, OpenBLAS core type and threads; measures what a core " +
        "type preset costs",
    )
    .option("--json", "print the report as one JSON object")
    .option("--sgemm-only", "print only a short sgemm measurement as JSON (used by doctor's own child process)")
    .action(async (options: { json?: boolean; sgemmOnly?: boolean }) => {
      if (options.sgemmOnly) {
        const { measureSgemm } = await import("../../native/blas-speed.js");
        process.stdout.write(`${JSON.stringify(measureSgemm())}\n`);
        return;
      }
      const report = await runDoctor();
      process.stdout.write(options.json ? `${JSON.stringify(report)}\n` : formatDoctor(report));
    });
}
