/**
 * The open dashboard pages: Server-Sent Events streams, at most `max` at once.
 *
 * A page that reads slowly (a phone on a bad network, a stalled tab) must not make
 * the server keep every frame for it in memory. res.write() returns false once that
 * page's buffer is full: from then on its frames are skipped until the socket
 * drains ('drain'). A snapshot carries all the numbers, so the next one after the
 * drain brings the page up to date; skipped notices stay available from /api/notices.
 */
'use strict';

class SseClients {
  constructor(max) {
    this.max = max;
    this.clients = new Map();        // res -> { blocked, skipped }
  }

  get size() {
    return this.clients.size;
  }

  hasRoom() {
    return this.clients.size < this.max;
  }

  /** Starts the stream on `res` and keeps it until the page goes away. */
  add(req, res) {
    this.clients.set(res, { blocked: false, skipped: 0 });
    req.on('close', () => this.clients.delete(res));
  }

  /** Writes `frame` to one page, unless it has not taken the previous frames yet. */
  send(res, frame) {
    const client = this.clients.get(res);
    if (!client) return;
    if (client.blocked) {
      client.skipped += 1;
      return;
    }
    if (!res.write(frame)) {
      client.blocked = true;
      res.once('drain', () => { client.blocked = false; });
    }
  }

  broadcast(frame) {
    for (const res of this.clients.keys()) this.send(res, frame);
  }

  /** Per page: bytes waiting in its buffer, frames skipped, whether it is blocked now. */
  stats() {
    return [...this.clients].map(([res, c]) => ({ buffered: res.writableLength, skipped: c.skipped, blocked: c.blocked }));
  }

  endAll() {
    for (const res of this.clients.keys()) res.end();
    this.clients.clear();
  }
}

module.exports = { SseClients };
