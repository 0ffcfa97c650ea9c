/**
 * A loopback HTTP server that replays recorded AWS responses to the real SDK clients (given as their
 * `endpoint`), so requests and responses go through the SDK's real serialisers, deserialisers, error
 * parsing and retry middleware. Each request is keyed by its operation: the X-Amz-Target header (JSON
 * protocols), the form's Action (query and EC2 protocols), or "METHOD /path?query" (REST protocols).
 * Exchanges are consumed in order; one marked `repeat` keeps answering. An unmatched request gets a 500
 * naming it, and is recorded in `unmatched` so a test can fail on it.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import type { AwsContext } from "../../scripts/aws/aws-context.ts";

export interface ReplayRequest {
  readonly key: string;
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage["headers"];
  readonly body: string;
  /** Form fields of query-protocol requests; empty otherwise. */
  readonly form: URLSearchParams;
}

export interface Exchange {
  /** Operation name (GetServiceQuota) or a pattern over the key ("GET /api/v2/clusters"). */
  readonly match: string | RegExp;
  /** Extra condition on the request (e.g. which QuotaCode). */
  readonly when?: (req: ReplayRequest) => boolean;
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body: string;
  /** Keep answering instead of being used up. */
  readonly repeat?: boolean;
}

/** Content types per protocol, as AWS sends them. */
export const contentType = {
  json11: "application/x-amz-json-1.1",
  xml: "text/xml;charset=UTF-8",
  restJson: "application/json",
} as const;

export const jsonReply = (body: string, status = 200): Pick<Exchange, "body" | "status" | "headers"> => ({
  body,
  status,
  headers: { "content-type": contentType.json11 },
});
export const xmlReply = (body: string, status = 200): Pick<Exchange, "body" | "status" | "headers"> => ({
  body,
  status,
  headers: { "content-type": contentType.xml },
});
/** REST JSON services name an error in the x-amzn-errortype header (and the body's message). */
export const restJsonReply = (body: string, status = 200, errorType?: string): Pick<Exchange, "body" | "status" | "headers"> => ({
  body,
  status,
  headers: { "content-type": contentType.restJson, ...(errorType === undefined ? {} : { "x-amzn-errortype": errorType }) },
});

function keyOf(method: string, path: string, headers: IncomingMessage["headers"], form: URLSearchParams): string {
  const target = headers["x-amz-target"];
  if (typeof target === "string") return target.slice(target.lastIndexOf(".") + 1);
  const action = form.get("Action");
  if (action !== null) return action;
  return `${method} ${path}`;
}

export class ReplayServer {
  readonly requests: ReplayRequest[] = [];
  readonly unmatched: ReplayRequest[] = [];
  private exchanges: (Exchange & { used?: boolean })[] = [];
  private server: Server | undefined;
  endpoint = "";

  add(...exchanges: Exchange[]): this {
    this.exchanges.push(...exchanges.map((e) => ({ ...e })));
    return this;
  }

  reset(): void {
    this.exchanges = [];
    this.requests.length = 0;
    this.unmatched.length = 0;
  }

  /** Keys of the requests seen, in order. */
  keys(): string[] {
    return this.requests.map((r) => r.key);
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        const method = req.method ?? "GET";
        const path = req.url ?? "/";
        const isForm = String(req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded");
        const form = isForm ? new URLSearchParams(body) : new URLSearchParams();
        const request: ReplayRequest = { key: keyOf(method, path, req.headers, form), method, path, headers: req.headers, body, form };
        this.requests.push(request);
        const exchange = this.exchanges.find(
          (e) =>
            !e.used &&
            (typeof e.match === "string" ? e.match === request.key : e.match.test(request.key)) &&
            (e.when === undefined || e.when(request)),
        );
        if (exchange === undefined) {
          this.unmatched.push(request);
          res.writeHead(500, { "content-type": "text/plain" }).end(`replay: no recorded response for ${request.key}`);
          return;
        }
        if (exchange.repeat !== true) exchange.used = true;
        const headers = { "x-amzn-requestid": "c6104cbe-af31-11e0-8154-cbc7ccf896c7", ...exchange.headers };
        res.writeHead(exchange.status ?? 200, headers).end(method === "HEAD" ? undefined : exchange.body);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    const { port } = this.server.address() as AddressInfo;
    this.endpoint = `http://127.0.0.1:${port}`;
    return this.endpoint;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
  }
}

/** Fake static credentials: the SDK signs requests with them; the replay server ignores signatures. */
export const testCredentials = { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };

/**
 * A replay server for one test file: started before its tests, stopped after, and every test must have used
 * exactly the exchanges it registered. The returned context is filled in once the server listens.
 */
export function useReplayServer(): { server: ReplayServer; ctx: AwsContext } {
  const server = new ReplayServer();
  const ctx = {} as AwsContext;
  beforeAll(async () => {
    Object.assign(ctx, { region: "us-east-1", endpoint: await server.start(), credentials: testCredentials, maxAttempts: 3 });
  });
  afterAll(() => server.stop());
  afterEach(() => {
    const unmatched = server.unmatched.map((r) => r.key);
    server.reset();
    expect(unmatched).toEqual([]);
  });
  return { server, ctx };
}
