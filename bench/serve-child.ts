/** `seal serve` in a child process for the benchmark: on a port the system picks (--port 0), stopped with SIGTERM. */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The package's CLI entry (this file runs as dist/bench/serve-child.js). */
const SEAL_BIN = fileURLToPath(new URL("../../bin/seal.js", import.meta.url));

export interface ServeChild {
  url: string;
  child: ChildProcess;
  /** The last lines it wrote (stdout and stderr), for error messages. */
  output(): string;
  stop(): Promise<void>;
}

export async function startServe(args: string[], options: { startTimeoutMs?: number } = {}): Promise<ServeChild> {
  const child = spawn(process.execPath, [SEAL_BIN, "serve", "--port", "0", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    // no key: the benchmark's requests carry none
    env: { ...process.env, SEAL_API_KEY: "" },
  });
  let tail = "";
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString("utf8")).slice(-4000);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`seal serve did not print its URL within ${options.startTimeoutMs ?? 120_000} ms:\n${tail}`));
    }, options.startTimeoutMs ?? 120_000);
    const onData = () => {
      const match = /listening on (http:\/\/\S+)/.exec(tail);
      if (!match) return;
      clearTimeout(timer);
      child.stdout!.off("data", onData);
      resolve(match[1].replace(/\/$/, ""));
    };
    child.stdout!.on("data", onData);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`seal serve exited before listening (code ${code}, signal ${signal}):\n${tail}`));
    });
  });

  return {
    url,
    child,
    output: () => tail,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
