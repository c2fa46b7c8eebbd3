// A bare HTTP server on 127.0.0.1 for the behaviours the emulator cannot play: bodies that arrive
// slowly or never end, requests held open until the test lets them go.
import http from 'node:http';

/**
 * Starts a server whose every request goes to `handler(req, res, body)` (body read first).
 * Returns { url, requests, close() }; `requests` holds { method, url, headers, body, closedEarly }
 * where closedEarly turns true when the client went away before the answer was complete.
 */
export async function startRawServer(handler) {
  const requests = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('error', () => {});
    res.on('error', () => {});
    req.on('end', () => {
      const entry = { method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), closedEarly: false };
      requests.push(entry);
      res.on('close', () => {
        if (!res.writableFinished) entry.closedEarly = true;
      });
      Promise.resolve(handler(req, res, entry)).catch(() => res.destroy());
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    requests,
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** A token answer. */
export function tokenAnswer(res, accessToken = `tok-${Math.random().toString(36).slice(2)}`, expiresIn = 300) {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ access_token: accessToken, token_type: 'Bearer', expires_in: expiresIn }));
}
