/** Server-sent events as OpenAI streams them: `data: {json}\n\n` per chunk, `data: [DONE]\n\n` at the end. */
import type { ServerResponse } from "node:http";

export class SseStream {
  constructor(private readonly response: ServerResponse) {}

  /** Writes the 200 head at once, so the client sees the stream start before the first token. */
  open(): void {
    this.response.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
      // Proxies (nginx) would otherwise buffer the stream.
      "x-accel-buffering": "no",
    });
    this.response.flushHeaders();
  }

  /** Whether the client is gone or the stream already ended. */
  get closed(): boolean {
    return this.response.destroyed || this.response.writableEnded;
  }

  send(data: object): void {
    if (!this.closed) this.response.write(`data: ${JSON.stringify(data)}\n\n`);
  }

  /** Ends the stream: with `data: [DONE]` after a success, without it after an error event. */
  end(done = true): void {
    if (this.closed) return;
    if (done) this.response.write("data: [DONE]\n\n");
    this.response.end();
  }
}
