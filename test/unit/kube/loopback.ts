// A loopback HTTP server that plays the API server for one test file, and a KubeClient pointed at it.
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeClient } from '../../../src/kube/client';

export interface Loopback {
  server: Server;
  client: KubeClient;
  close: () => Promise<void>;
}

export async function loopback(handler: RequestListener): Promise<Loopback> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new KubeClient({
    name: 'test',
    cluster: { server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, insecureSkipTLSVerify: false },
    user: {},
  });
  const close = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return { server, client, close };
}
