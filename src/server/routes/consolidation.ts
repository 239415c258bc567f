/**
 * Consolidation and versions: start one (202 while it runs, 409 when one already runs), read their history, list
 * adapter versions with their probe accuracies, activate one (rollback). Starting and activating go through
 * ConsolidationControl, which owns the worker and the serving adapter.
 */
import type { FastifyInstance } from "fastify";
import type { ServerDeps } from "../deps.js";
import { notFound, parseRequest } from "../errors.js";
import { activateBodySchema, consolidateBodySchema, listQuerySchema, numericIdSchema } from "../memory-schemas.js";
import { summarizeEvaluations } from "../version-summary.js";

export function registerConsolidationRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const { store, consolidation } = deps;
  const idOf = (params: { id: string }) => parseRequest(numericIdSchema, params.id, "id");

  app.post("/v1/memory/consolidate", async (request, reply) => {
    const body = parseRequest(consolidateBodySchema, request.body);
    const started = await consolidation.start("manual", { rebuild: body?.rebuild ?? false });
    reply.code(started.state === "running" ? 202 : 200);
    return { consolidation: started };
  });

  app.get("/v1/memory/consolidations", async (request) => {
    const query = parseRequest(listQuerySchema, request.query);
    const data = store.listConsolidations({ limit: query.limit ?? 100 });
    return { object: "list", data, running: consolidation.running()?.id ?? null };
  });

  app.get<{ Params: { id: string } }>("/v1/memory/consolidations/:id", async (request) => {
    const id = idOf(request.params);
    const found = store.getConsolidation(id);
    if (found === null) throw notFound(`no consolidation ${id}`, "id");
    return found;
  });

  app.get("/v1/memory/versions", async () => {
    const data = store.listVersions().map((version) => ({
      ...version,
      evaluation: summarizeEvaluations(store.evaluationsOf(version.id)),
    }));
    return { object: "list", data, active: store.activeVersion()?.id ?? null };
  });

  app.post<{ Params: { id: string } }>("/v1/memory/versions/:id/activate", async (request) => {
    const id = idOf(request.params);
    const body = parseRequest(activateBodySchema, request.body);
    if (store.getVersion(id) === null) throw notFound(`no version ${id}`, "id");
    return consolidation.activate(id, { force: body?.force ?? false });
  });
}
