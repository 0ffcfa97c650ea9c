/** freePort: the port it gives is free on the host asked for, so the server started next can listen on it. */
import { createServer, type Server } from "node:net";
import { describe, expect, it } from "vitest";
import { freePort } from "../../scripts/free-port.ts";

const listen = (port: number, host: string): Promise<Server> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });

describe("freePort", () => {
  it("gives a port a server can then listen on", async () => {
    const port = await freePort("127.0.0.1");
    expect(port).toBeGreaterThan(0);
    const server = await listen(port, "127.0.0.1");
    await new Promise((resolve) => server.close(resolve));
  });

  it("fails on a host it cannot bind", async () => {
    await expect(freePort("192.0.2.1")).rejects.toThrow(/EADDRNOTAVAIL/);
  });
});
