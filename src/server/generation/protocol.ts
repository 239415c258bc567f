/**
 * Messages between the generation service (client.ts, on the server's thread) and its worker (worker.ts). The
 * worker sends each step's events in one message, so the server's event loop gets one message per forward.
 */
import type { GenerationFinishReason, GenerationRequest } from "./types.js";

export interface WorkerData {
  modelDir: string;
  adapterDir: string | null;
  maxBatch: number;
}

export type ToWorker =
  | { type: "submit"; id: string; request: GenerationRequest }
  | { type: "cancel"; id: string }
  | { type: "adapter"; ticket: number; adapterDir: string | null }
  | { type: "close" };

export type RequestEvent =
  | { type: "start"; id: string; promptTokens: number; adapter: string | null }
  | { type: "delta"; id: string; index: number; text: string }
  | {
      type: "end";
      id: string;
      index: number;
      finishReason: GenerationFinishReason;
      text: string;
      completionTokens: number;
    }
  | { type: "done"; id: string }
  | { type: "error"; id: string; kind: "invalid" | "internal"; message: string; field: string | null };

export interface WorkerCounts {
  running: number;
  queued: number;
  generatedTokens: number;
}

export type FromWorker =
  | { type: "ready"; modelId: string; contextLength: number; adapter: string | null }
  | { type: "failed"; message: string }
  | { type: "events"; events: RequestEvent[]; counts: WorkerCounts }
  | { type: "adapter"; ticket: number; adapter: string | null; error: string | null }
  | { type: "closed" };
