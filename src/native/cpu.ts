/**
 * What the CPU supports, and the OpenBLAS core type that fits it. Pure (no addon), so it runs before the addon
 * loads: OpenBLAS reads OPENBLAS_CORETYPE once, when the library is loaded.
 */
import { readFileSync } from "node:fs";

export interface CpuInfo {
  flags: Set<string>;
  amd: boolean;
}

/** OpenBLAS core types whose sgemm kernels use AVX-512. */
const AVX512_CORES = new Set(["SKYLAKEX", "COOPERLAKE", "SAPPHIRERAPIDS"]);

export function hasAvx512(flags: Set<string>): boolean {
  return ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"].every((f) => flags.has(f));
}

/** The OpenBLAS core type to force on this CPU, or null to let OpenBLAS decide. */
export function chooseOpenBlasCoreType(cpuFlags: Set<string>, vendorIsAmd: boolean): string | null {
  if (!hasAvx512(cpuFlags)) return null;
  // OpenBLAS detects Intel AVX-512 parts itself; it is AMD (Zen 4/5) that 0.3.21 misses.
  if (!vendorIsAmd) return null;
  return cpuFlags.has("avx512_bf16") ? "COOPERLAKE" : "SKYLAKEX";
}

/**
 * When a core type preset in the environment leaves this CPU's AVX-512 unused, the core type that would use it;
 * null when the preset already fits (or there is no preset). The preset is still honoured: the user, or the
 * machine's image, may have set it to avoid an OpenBLAS build that misbehaves on this CPU.
 */
export function fasterCoreType(preset: string | undefined, cpu: CpuInfo): string | null {
  if (!preset?.trim() || !hasAvx512(cpu.flags)) return null;
  if (AVX512_CORES.has(preset.trim().toUpperCase())) return null;
  return chooseOpenBlasCoreType(cpu.flags, cpu.amd) ?? "SKYLAKEX";
}

export function readCpuInfo(): CpuInfo {
  try {
    const text = readFileSync("/proc/cpuinfo", "utf8");
    const flagsLine = text.split("\n").find((line) => line.startsWith("flags"));
    return {
      flags: new Set(flagsLine ? flagsLine.split(":")[1].trim().split(/\s+/) : []),
      amd: /vendor_id\s*:\s*AuthenticAMD/.test(text),
    };
  } catch {
    return { flags: new Set(), amd: false };
  }
}
