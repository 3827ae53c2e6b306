// Realtime client for the protocol of /ws/v1 - a plain ES module, no build step.
//
//   import { RealtimeClient } from "/ws/static/realtime-client.js";
//   const client = new RealtimeClient("wss://api.example.com/ws/v1", {
//     getToken: async () => currentAccessToken(),   // called before every (re)connect
//     rooms: ["room:lobby"],
//   });
//   client.addEventListener("message", (event) => show(event.detail));
//   client.connect();
//   await client.send("room:lobby", "hello");       // resolves when the server acked
//
// Delivery is at-least-once: a message is kept until its ack arrives and is sent again
// (same id) after a reconnect or an ack timeout; the server relays an id only once and
// this client drops messages whose id it has already delivered.

const TOKEN_PROTOCOL = "bearer.";
const PROTOCOL = "realtime.v1";
const SEEN_LIMIT = 1000;

export class RealtimeClient extends EventTarget {
  constructor(url, options = {}) {
    super();
    this.url = url;
    this.getToken = options.getToken ?? (async () => null);
    this.tokenIn = options.tokenIn ?? "query"; // or "protocol" (keeps it out of access logs)
    this.minDelay = options.minDelay ?? 500;
    this.maxDelay = options.maxDelay ?? 30000;
    this.ackTimeout = options.ackTimeout ?? 10000;
    this.typingThrottle = options.typingThrottle ?? 2000;
    this.WebSocket = options.WebSocket ?? globalThis.WebSocket;
    this.rooms = new Set(options.rooms ?? []); // wanted rooms, joined again on reconnect
    this.pending = new Map(); // id -> {room, body, resolve, reject, timer}
    this.seen = new Set();
    this.typers = new Map(); // room -> Map(userId -> {user, timer})
    this.lastTyping = new Map();
    this.status = "idle";
    this.attempt = 0;
    this.reconnects = 0;
    this.socket = null;
    this.welcome = null;
    this.stopped = false;
    this.lastFrameAt = 0;
    this.watchdog = null;
    this.retryTimer = null;
  }

  // --- public API ---------------------------------------------------------------

  connect() {
    this.stopped = false;
    this.#open();
  }

  close() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.#setStatus("closed");
    this.socket?.close(1000, "client closed");
  }

  join(room) {
    this.rooms.add(room);
    this.#write({ type: "join", room });
  }

  leave(room) {
    this.rooms.delete(room);
    this.#write({ type: "leave", room });
  }

  send(room, body) {
    const id = crypto.randomUUID();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { room, body, resolve, reject, timer: null });
      this.#transmit(id);
    });
  }

  typing(room, active = true) {
    const now = Date.now();
    if (active && now - (this.lastTyping.get(room) ?? 0) < this.typingThrottle) return;
    if (active) this.lastTyping.set(room, now);
    else this.lastTyping.delete(room);
    this.#write({ type: "typing", room, active });
  }

  typingIn(room) {
    return [...(this.typers.get(room)?.values() ?? [])].map((entry) => entry.user);
  }

  // --- connection -----------------------------------------------------------------

  async #open() {
    this.#setStatus(this.reconnects || this.attempt ? "reconnecting" : "connecting");
    let token;
    try {
      token = await this.getToken();
    } catch (error) {
      this.#emit("error", { code: "token_unavailable", detail: String(error) });
      this.#scheduleReconnect();
      return;
    }
    if (this.stopped) return;
    const protocols = [PROTOCOL];
    let url = this.url;
    if (token && this.tokenIn === "protocol") protocols.push(TOKEN_PROTOCOL + token);
    else if (token) url += (url.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(token);
    const socket = new this.WebSocket(url, protocols);
    this.socket = socket;
    this.welcome = null;
    socket.onmessage = (event) => this.#receive(event.data);
    socket.onclose = (event) => this.#closed(socket, event);
    socket.onerror = () => {}; // a close event always follows; handled there
  }

  #closed(socket, event) {
    if (socket !== this.socket) return;
    clearInterval(this.watchdog);
    const welcomed = this.welcome !== null;
    this.socket = null;
    this.welcome = null;
    for (const entry of this.pending.values()) clearTimeout(entry.timer);
    this.#emit("disconnected", { code: event.code, reason: event.reason, welcomed });
    if (this.stopped) return;
    if (event.code === 1008 && !welcomed) {
      // The token was refused at the handshake: retrying with it cannot help.
      this.stopped = true;
      this.#setStatus("unauthorized");
      this.#emit("unauthorized", { reason: event.reason });
      return;
    }
    if (event.code === 4001) this.attempt = 0; // token expired: fetch a new one now
    this.#scheduleReconnect(event.code === 4001 ? 0 : undefined);
  }

  #scheduleReconnect(fixedDelay) {
    this.#setStatus("reconnecting");
    // Exponential backoff with jitter: 0.5-1x of min(max, min * 2^attempt), so a crowd
    // of clients dropped at once by a restart does not come back in one wave.
    const ceiling = Math.min(this.maxDelay, this.minDelay * 2 ** this.attempt);
    const delay = fixedDelay ?? ceiling / 2 + Math.random() * (ceiling / 2);
    this.attempt += 1;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.reconnects += 1;
      this.#open();
    }, delay);
  }

  #receive(data) {
    this.lastFrameAt = Date.now();
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    switch (frame.type) {
      case "welcome":
        this.#welcomed(frame);
        break;
      case "ping":
        this.#write({ type: "pong", ts: frame.ts });
        break;
      case "ack":
        this.#acked(frame.id);
        break;
      case "message": {
        const key = `${frame.sender.id}:${frame.id}`;
        if (this.seen.has(key)) return; // at-least-once: drop the duplicate
        this.seen.add(key);
        if (this.seen.size > SEEN_LIMIT) this.seen.delete(this.seen.values().next().value);
        this.#emit("message", frame);
        break;
      }
      case "typing":
        this.#typing(frame);
        break;
      case "error":
        this.#error(frame);
        break;
      default:
        this.#emit(frame.type, frame); // joined, left, presence, authenticated, pong
    }
  }

  #welcomed(frame) {
    this.welcome = frame;
    this.attempt = 0;
    this.#setStatus("open");
    // Watch the server too: no frame for 2.5 heartbeats means a dead connection.
    clearInterval(this.watchdog);
    this.watchdog = setInterval(() => {
      if (Date.now() - this.lastFrameAt > frame.heartbeat_ms * 2.5) this.socket?.close(4000, "no heartbeat");
    }, Math.max(1000, frame.heartbeat_ms / 2));
    for (const room of this.rooms) this.#write({ type: "join", room });
    for (const id of this.pending.keys()) this.#transmit(id); // same ids: no duplicates
    this.#emit("open", frame);
  }

  #transmit(id) {
    const entry = this.pending.get(id);
    if (!entry) return;
    clearTimeout(entry.timer);
    if (!this.welcome) return; // sent again after the next welcome
    this.#write({ type: "message", id, room: entry.room, body: entry.body });
    entry.timer = setTimeout(() => this.#transmit(id), this.ackTimeout);
  }

  #acked(id) {
    const entry = this.pending.get(id);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.pending.delete(id);
    entry.resolve(id);
  }

  #error(frame) {
    const entry = frame.id ? this.pending.get(frame.id) : undefined;
    if (entry && frame.code !== "relay_unavailable") {
      clearTimeout(entry.timer);
      this.pending.delete(frame.id);
      entry.reject(Object.assign(new Error(frame.detail), { code: frame.code }));
    }
    this.#emit("error", frame);
  }

  #typing(frame) {
    const room = this.typers.get(frame.room) ?? new Map();
    this.typers.set(frame.room, room);
    clearTimeout(room.get(frame.user.id)?.timer);
    if (frame.active) {
      // The indicator expires by itself unless the typist refreshes it in time.
      const timer = setTimeout(() => {
        room.delete(frame.user.id);
        this.#emit("typing", { room: frame.room, users: this.typingIn(frame.room) });
      }, frame.ttl_ms);
      room.set(frame.user.id, { user: frame.user, timer });
    } else {
      room.delete(frame.user.id);
    }
    this.#emit("typing", { room: frame.room, users: this.typingIn(frame.room) });
  }

  #write(frame) {
    if (this.socket?.readyState === this.WebSocket.OPEN && this.welcome) {
      this.socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  #setStatus(status) {
    if (this.status === status) return;
    this.status = status;
    this.#emit("status", { status });
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
