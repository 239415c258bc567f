/** The memory API's documents: add (idempotent by content), list, get, forget, and a BM25 search for debugging. */
import type { FastifyInstance } from "fastify";
import type { DocumentState } from "../../domains/memory/types.js";
import type { ServerDeps } from "../deps.js";
import { notFound, parseRequest } from "../errors.js";
import { listDocumentsQuerySchema, newDocumentSchema, searchQuerySchema } from "../memory-schemas.js";

/** Document ids are "doc_" + 16 hex digits; anything much longer is no id. */
const MAX_ID_CHARS = 64;

export function registerMemoryRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const { store } = deps;
  const documentOr404 = (id: string) => {
    const document = id.length <= MAX_ID_CHARS ? store.getDocument(id) : null;
    if (document === null) throw notFound(`no document "${id.slice(0, MAX_ID_CHARS)}"`, "id");
    return document;
  };

  app.post("/v1/memory/documents", async (request, reply) => {
    const input = parseRequest(newDocumentSchema, request.body);
    const { document, created } = store.addDocument(input);
    reply.code(created ? 201 : 200);
    return { document, created };
  });

  app.get("/v1/memory/documents", async (request) => {
    const query = parseRequest(listDocumentsQuerySchema, request.query);
    const data = store.listDocuments({
      state: query.state,
      kind: query.kind,
      limit: query.limit ?? 100,
      offset: query.offset,
    });
    return { object: "list", data, counts: store.countDocuments() };
  });

  app.get<{ Params: { id: string } }>("/v1/memory/documents/:id", async (request) => documentOr404(request.params.id));

  app.delete<{ Params: { id: string } }>("/v1/memory/documents/:id", async (request) => {
    documentOr404(request.params.id);
    const forgotten = store.forgetDocument(request.params.id);
    if (forgotten === null) throw notFound(`no document "${request.params.id}"`, "id");
    return forgotten;
  });

  app.get("/v1/memory/search", async (request) => {
    const query = parseRequest(searchQuerySchema, request.query);
    const states: DocumentState[] = query.state === undefined ? ["pending", "consolidated"] : [query.state];
    const results = store.search(query.q, { states, limit: query.limit ?? 10 });
    return { object: "list", data: results.map(({ document, score }) => ({ document, score })) };
  });
}
