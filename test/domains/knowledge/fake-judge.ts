/**
 * A fake OpenAI-compatible judge on 127.0.0.1 (a real HTTP server on a free port) whose behaviour a test switches:
 * answer yes/no, refuse (401/403/404), fail (500), hang, or reply with a word that is no verdict ("banana").
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export type FakeJudgeMode = "yes" | "no" | "banana" | "401" | "403" | "404" | "500" | "hang";

export interface FakeJudge {
  /** Base URL to pass as the judge's (…/v1). */
  url: string;
  /** What the next requests get. */
  mode: FakeJudgeMode;
  /** Requests received (all modes). */
  calls: number;
  close(): Promise<void>;
}

const completion = (content: string): string => JSON.stringify({ choices: [{ message: { content } }] });

const REPLIES: Record<Exclude<FakeJudgeMode, "hang">, { status: number; body: string }> = {
  yes: { status: 200, body: completion("Yes.") },
  no: { status: 200, body: completion("No.") },
  banana: { status: 200, body: completion("banana") },
  "401": { status: 401, body: '{"error":{"message":"Incorrect API key provided"}}' },
  "403": { status: 403, body: '{"error":{"message":"forbidden"}}' },
  "404": { status: 404, body: '{"error":{"message":"The model `nope` does not exist"}}' },
  "500": { status: 500, body: "server is down" },
};

export async function startFakeJudge(mode: FakeJudgeMode = "yes"): Promise<FakeJudge> {
  const server = http.createServer((request, response) => {
    request.resume();
    request.on("end", () => {
      judge.calls++;
      if (judge.mode === "hang") return; // never answers; the client's timeout must end the call
      const reply = REPLIES[judge.mode];
      response.writeHead(reply.status, { "content-type": "application/json" });
      response.end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const judge: FakeJudge = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    mode,
    calls: 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return judge;
}
