// Builds the C addon (native/) with node-gyp. Runs on `npm install`.
// Decision: without OpenBLAS we stop with the exact package to install, rather than build a portable kernel that
// would be 10-50x slower and make every SEAL run unusably slow without saying so.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { findOpenBlas } from "./find-openblas.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

if (!findOpenBlas()) {
  console.error(`
seal: OpenBLAS was not found (need cblas.h and libopenblas).
  Debian/Ubuntu:  sudo apt-get install libopenblas-openmp-dev   (or libopenblas-dev)
  Fedora:         sudo dnf install openblas-devel
  macOS:          brew install openblas
Then run \`npm install\` (or \`npm run build\`) again.
`);
  process.exit(1);
}

// npm puts its bundled node-gyp on PATH for lifecycle scripts; outside npm fall back to npm's copy beside node.
const bundled = join(
  dirname(process.execPath),
  "..",
  "lib",
  "node_modules",
  "npm",
  "node_modules",
  "node-gyp",
  "bin",
  "node-gyp.js",
);
const command = existsSync(bundled) ? [process.execPath, bundled] : ["node-gyp"];
// Use the headers installed beside node when present, so no download is needed (offline machines).
const prefix = join(dirname(process.execPath), "..");
const localHeaders = existsSync(join(prefix, "include", "node", "node_api.h"));
const nodedirArg = !process.env.npm_config_nodedir && localHeaders ? [`--nodedir=${prefix}`] : [];
// node-gyp prints ~60 lines of "gyp info" on success; keep them for a failure (or SEAL_VERBOSE_BUILD=1).
const verbose = process.env.SEAL_VERBOSE_BUILD === "1";
const result = spawnSync(command[0], [...command.slice(1), "rebuild", ...nodedirArg], {
  cwd: root,
  stdio: verbose ? "inherit" : ["ignore", "pipe", "pipe"],
  encoding: "utf8",
  maxBuffer: 64 * 1024 * 1024,
});
if (result.status !== 0) {
  if (!verbose) process.stderr.write(`${result.stdout ?? ""}${result.stderr ?? ""}`);
  console.error(
    `seal: building the native addon failed (${result.error?.message ?? "see the compiler output above"}).`,
  );
  process.exit(result.status ?? 1);
}
console.log("seal: built the native addon (build/Release/seal_native.node)");
