// Locates OpenBLAS's cblas.h and library. Prefers pkg-config; falls back to the usual Debian/Ubuntu paths.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

const INCLUDE_DIRS = [
  "/usr/include/x86_64-linux-gnu",
  "/usr/include/aarch64-linux-gnu",
  "/usr/include/openblas",
  "/usr/local/include",
  "/usr/include",
  "/opt/homebrew/opt/openblas/include",
  "/usr/local/opt/openblas/include",
];
const LIB_DIRS = [
  "/usr/lib/x86_64-linux-gnu",
  "/usr/lib/aarch64-linux-gnu",
  "/usr/local/lib",
  "/usr/lib",
  "/usr/lib64",
  "/opt/homebrew/opt/openblas/lib",
  "/usr/local/opt/openblas/lib",
];

function pkgConfig(flag) {
  try {
    return execFileSync("pkg-config", [flag, "openblas"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })
      .trim()
      .split(/\s+/)
      .filter(Boolean);
  } catch {
    return null;
  }
}

/** @returns {{ includeDir: string, libs: string[] } | null} */
export function findOpenBlas() {
  const cflags = pkgConfig("--cflags");
  const libs = pkgConfig("--libs");
  if (cflags && libs) {
    const includeDir = cflags.find((f) => f.startsWith("-I"))?.slice(2) ?? "/usr/include";
    // Pin the runtime library to the variant we compiled against (Debian switches libopenblas.so.0 between the
    // pthread and OpenMP builds with update-alternatives; the OpenMP one shares our kernels' thread pool).
    const rpath = libs.filter((f) => f.startsWith("-L")).map((f) => `-Wl,-rpath,${f.slice(2)}`);
    if (existsSync(join(includeDir, "cblas.h"))) return { includeDir, libs: [...libs, ...rpath] };
  }
  const includeDir = INCLUDE_DIRS.find((dir) => existsSync(join(dir, "cblas.h")));
  const libDir = LIB_DIRS.find(
    (dir) => existsSync(join(dir, "libopenblas.so")) || existsSync(join(dir, "libopenblas.dylib")),
  );
  if (!includeDir || !libDir) return null;
  return { includeDir, libs: [`-L${libDir}`, "-lopenblas"] };
}
