/** `seal serve` in a child process for the benchmark: started on a free loopback port, stopped with SIGTERM. */
import { type ChildProcess, spawn } from "node:child_process";
import net from "node:net";
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

/** A port the OS says is free now (the child binds it a moment later). */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

export async function startServe(args: string[], options: { startTimeoutMs?: number } = {}): Promise<ServeChild> {
  const port = await freePort();
  const child = spawn(process.execPath, [SEAL_BIN, "serve", "--port", String(port), ...args], {
    stdio: ["ignore", "pipe", "pipe"],
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
