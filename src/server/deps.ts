/** What `buildServer` is given: the running parts (started by `seal serve` or a test) and the server's settings. */
import type { ChatRenderer, RetrievalMode } from "../domains/memory/hybrid.js";
import type { MemoryStoreApi } from "../domains/memory/types.js";
import type { ConsolidationControl } from "./consolidation-control.js";
import type { GenerationService } from "./generation/types.js";

export interface ServerDeps {
  generation: GenerationService;
  store: MemoryStoreApi;
  consolidation: ConsolidationControl;
  /** Renders chat messages (the model's tokenizer: its chat template, when it has one). */
  renderer: ChatRenderer;
  /** The data folder; adapter paths in the store are relative to it. */
  dataDir: string;
  /** Bearer token required on every route but /health and the dashboard's static files; null/undefined: none. */
  apiKey?: string | null;
  /** Retrieval when a request does not choose (default "pending"). */
  retrieval?: RetrievalMode;
  /** Documents retrieved per request (default 3). */
  retrievalLimit?: number;
  /** Largest request body in bytes (default 1 MiB). */
  bodyLimit?: number;
  /** Completion tokens when a request gives no max_tokens (default 256, at most the model's context). */
  defaultMaxTokens?: number;
  /** Where server errors (5xx) are reported; default: stderr. */
  log?: (line: string) => void;
}

export const DEFAULT_BODY_LIMIT = 1024 * 1024;
export const DEFAULT_MAX_TOKENS = 256;
