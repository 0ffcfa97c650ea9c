/**
 * A free TCP port for a server this process is about to start: the kernel picks one by a listen on port 0, and
 * it is released at once for the server to take. Another process could take it in between; the callers start
 * their server right away and fail loudly when the port is gone.
 */
import { createServer } from "node:net";

export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
