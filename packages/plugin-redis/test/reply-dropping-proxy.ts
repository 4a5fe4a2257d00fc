// A TCP proxy in front of a real Redis that can lose one reply: once a
// command carrying a marker passes, Redis runs it, but its reply never reaches
// the client, whose connection is then cut. ioredis resends the commands whose
// replies it did not get once it has reconnected, so Redis runs that command a
// second time: what a Redis restart or a network blip does to commands in
// flight, made to happen on one chosen command.
import { createServer, connect, type Server, type Socket } from "node:net";

export interface ReplyDroppingProxy {
  /** redis://127.0.0.1:<port> */
  url: string;
  /** Lose the reply of the next command whose bytes contain `marker`; resolves once the connection was cut. */
  dropReplyTo(marker: string): Promise<void>;
  close(): Promise<void>;
}

/** How long Redis is given to run the command before the connection is cut (it runs it well within this on loopback). */
const RUN_MS = 100;

export async function startReplyDroppingProxy(redisPort: number): Promise<ReplyDroppingProxy> {
  const sockets = new Set<Socket>();
  let armed: { marker: string; cut: () => void } | undefined;
  const server: Server = createServer((client) => {
    const upstream = connect(redisPort, "127.0.0.1");
    sockets.add(client).add(upstream);
    let dropping = false;
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("data", (chunk: Buffer) => {
      if (dropping) return;
      upstream.write(chunk);
      const trap = armed;
      if (trap && chunk.includes(trap.marker)) {
        armed = undefined;
        dropping = true;
        setTimeout(() => {
          end();
          trap.cut();
        }, RUN_MS);
      }
    });
    upstream.on("data", (chunk: Buffer) => {
      if (!dropping) client.write(chunk);
    });
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the proxy has no port");
  return {
    url: `redis://127.0.0.1:${address.port}`,
    dropReplyTo: (marker) => new Promise<void>((resolve) => (armed = { marker, cut: resolve })),
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
