/** GET /v1/models and /v1/models/{id}: the one model this server runs. */
import type { FastifyInstance } from "fastify";
import type { ServerDeps } from "../deps.js";
import { notFound } from "../errors.js";

/** When the server started, as OpenAI's `created` (seconds). */
const STARTED = Math.floor(Date.now() / 1000);

export function registerModelRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const model = () => ({ id: deps.generation.modelId, object: "model", created: STARTED, owned_by: "seal" });
  app.get("/v1/models", async () => ({ object: "list", data: [model()] }));
  app.get<{ Params: { id: string } }>("/v1/models/:id", async (request) => {
    if (request.params.id !== deps.generation.modelId) throw notFound(`no model "${request.params.id}"`, "model");
    return model();
  });
}
