/** GET /health: answered from in-memory state (never waits on the model), without a key. */
import type { FastifyInstance } from "fastify";
import type { ServerDeps } from "../deps.js";

export function registerHealthRoutes(app: FastifyInstance, deps: ServerDeps): void {
  app.get("/health", async () => ({
    status: "ok",
    model: deps.generation.modelId,
    consolidating: deps.consolidation.running() !== null,
    generation: deps.generation.stats(),
  }));
}
