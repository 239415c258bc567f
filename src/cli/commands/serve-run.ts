/**
 * The work behind `seal serve`: open the store, start the generation worker on the active version's adapter,
 * start consolidation, build the HTTP server and listen. `startServe` is also what the server tests run.
 */
import fs from "node:fs";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import type { ConsolidationSettings } from "../../domains/memory/consolidation-settings.js";
import { openMemoryStore } from "../../domains/memory/store.js";
import type { MemoryStoreApi } from "../../domains/memory/types.js";
import { loadTokenizer } from "../../io/tokenizer.js";
import { buildServer } from "../../server/app.js";
import type { ConsolidationControl } from "../../server/consolidation-control.js";
import { ConsolidationService } from "../../server/consolidation-service.js";
import { startGenerationService } from "../../server/generation/client.js";
import type { GenerationService } from "../../server/generation/types.js";
import { startSchedule } from "../../server/schedule.js";
import { shippedMiniModel } from "./demo-run.js";
import type { ServeOptions } from "./serve.js";

export const STORE_FILE = "memory.sqlite";

/** What consolidation is built from (the parts the server already runs). */
export interface ConsolidationParts {
  store: MemoryStoreApi;
  generation: GenerationService;
  dataDir: string;
  modelDir: string;
  teacherDir: string | null;
  options: ServeOptions;
  log: (line: string) => void;
}

export interface RunningServe {
  app: FastifyInstance;
  /** http://HOST:PORT (the port the system gave for --port 0). */
  url: string;
  dataDir: string;
  modelDir: string;
  store: MemoryStoreApi;
  generation: GenerationService;
  consolidation: ConsolidationControl;
  /** Stops accepting requests, then closes consolidation, the worker and the store, in that order. */
  close(): Promise<void>;
}

/**
 * Consolidation for `seal serve`: the worker-thread service (resuming a consolidation a crash left running) and its
 * schedule (--consolidate-cron / --consolidate-every). Closing it stops the schedule, then the service.
 */
function createConsolidation(
  parts: ConsolidationParts,
  settings: ConsolidationSettings | undefined,
  log: (line: string) => void,
): ConsolidationControl {
  const service = new ConsolidationService({
    store: parts.store,
    storeFile: path.join(parts.dataDir, STORE_FILE),
    dataDir: parts.dataDir,
    modelDir: parts.modelDir,
    teacherDir: parts.teacherDir,
    generation: parts.generation,
    settings,
    log,
  });
  service.resumeInterrupted();
  const schedule = startSchedule(
    { cron: parts.options.consolidateCron, everyMs: parts.options.consolidateEvery },
    () => service.start("schedule"),
    parts.log,
  );
  if (schedule !== null)
    parts.log(`seal serve: consolidation ${schedule.describe()}, next ${schedule.next()?.toISOString()}`);
  return {
    start: (trigger, options) => service.start(trigger, options),
    running: () => service.running(),
    activate: (id, options) => service.activate(id, options),
    close: async () => {
      schedule?.stop();
      await service.close();
    },
  };
}

function urlOf(address: AddressInfo): string {
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

export async function startServe(
  options: ServeOptions,
  settings: {
    log?: (line: string) => void;
    /** Settings for new consolidations (default: consolidationSettingsFor(model); tests make them small). */
    consolidationSettings?: ConsolidationSettings;
    /** Consolidation progress lines (default: stderr); `log` gets errors only. */
    consolidationLog?: (line: string) => void;
  } = {},
): Promise<RunningServe> {
  const log = settings.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const dataDir = path.resolve(options.data);
  const modelDir = path.resolve(options.model ?? shippedMiniModel());
  const teacherDir = options.teacher === undefined ? null : path.resolve(options.teacher);
  fs.mkdirSync(dataDir, { recursive: true });
  // The tokenizer renders chat templates here; the worker loads its own copy to tokenize.
  const renderer = loadTokenizer(modelDir);
  const store = openMemoryStore(path.join(dataDir, STORE_FILE));
  const opened: Array<() => Promise<void> | void> = [() => store.close()];
  const closeOpened = async () => {
    for (const close of opened.reverse()) await close();
  };
  try {
    const adapterPath = store.activeVersion()?.adapterPath ?? null;
    const generation = await startGenerationService({
      modelDir,
      adapterDir: adapterPath === null ? null : path.resolve(dataDir, adapterPath),
      maxBatch: options.maxBatch,
      maxQueue: options.maxQueue,
    });
    opened.push(() => generation.close());
    const parts: ConsolidationParts = { store, generation, dataDir, modelDir, teacherDir, options, log };
    const consolidation = createConsolidation(
      parts,
      settings.consolidationSettings,
      settings.consolidationLog ?? ((line) => process.stderr.write(`${line}\n`)),
    );
    opened.push(() => consolidation.close());
    const app = buildServer({
      generation,
      store,
      consolidation,
      renderer,
      dataDir,
      apiKey: options.apiKey ?? null,
      retrieval: options.retrieval,
      bodyLimit: options.bodyLimit,
      defaultMaxTokens: options.maxTokens,
      log,
    });
    opened.push(() => app.close());
    await app.listen({ host: options.host, port: options.port });
    const url = urlOf(app.server.address() as AddressInfo);
    return { app, url, dataDir, modelDir, store, generation, consolidation, close: closeOpened };
  } catch (error) {
    await closeOpened();
    throw error;
  }
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

/** `seal serve`: starts, prints the URL, and runs until SIGINT/SIGTERM (a second signal exits at once). */
export async function serveUntilSignal(options: ServeOptions): Promise<void> {
  const running = await startServe(options);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`seal serve: listening on ${running.url}`);
  out(`seal serve: dashboard at ${running.url}/`);
  out(`seal serve: model ${running.generation.modelId}, data ${running.dataDir}`);
  if (!LOOPBACK.has(options.host) && (options.apiKey ?? "") === "")
    process.stderr.write(`seal serve: warning: listening on ${options.host} without --api-key / SEAL_API_KEY\n`);
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) process.exit(130);
      stopping = true;
      out(`seal serve: ${signal}, shutting down`);
      running.close().then(resolve, (error: unknown) => {
        process.stderr.write(`seal serve: error while shutting down: ${String(error)}\n`);
        process.exitCode = 1;
        resolve();
      });
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}
