// The demo page: log in (or take #token=... from the URL), join a room, chat.
// Everything the page does is also kept in `window.realtimeDemo` for automated tests.
import { RealtimeClient } from "/ws/static/realtime-client.js";

const params = new URLSearchParams(location.hash.slice(1));
const room = params.get("room") ?? "room:lobby";
const $ = (id) => document.getElementById(id);
const state = { status: "idle", received: [], closes: [], joined: 0, acked: 0, errors: [], client: null };
window.realtimeDemo = state;
$("room").textContent = room;

let token = params.get("token");

async function login(event) {
  event.preventDefault();
  const response = await fetch("/api/v1/auth/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email: $("email").value, password: $("password").value }),
  });
  if (!response.ok) {
    $("status").textContent = `login failed (${response.status})`;
    return;
  }
  token = (await response.json()).access_token;
  $("login").hidden = true;
  start();
}

function show(frame, pending = false) {
  const item = document.createElement("li");
  item.id = `m-${frame.id}`;
  item.textContent = `${frame.sender.name}: ${frame.body}`;
  if (pending) item.className = "pending";
  $("messages").append(item);
}

function start() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const client = new RealtimeClient(`${scheme}//${location.host}/ws/v1`, {
    getToken: async () => token,
    rooms: [room],
    minDelay: Number(params.get("minDelay") ?? 500),
    maxDelay: Number(params.get("maxDelay") ?? 10000),
  });
  state.client = client;
  client.addEventListener("status", (event) => {
    state.status = event.detail.status;
    $("status").textContent = event.detail.status;
  });
  client.addEventListener("disconnected", (event) => state.closes.push(event.detail.code));
  client.addEventListener("joined", () => (state.joined += 1));
  client.addEventListener("presence", (event) => members(event.detail.members));
  client.addEventListener("joined", (event) => members(event.detail.members));
  client.addEventListener("error", (event) => state.errors.push(event.detail.code));
  client.addEventListener("message", (event) => {
    state.received.push(event.detail.body);
    show(event.detail);
  });
  client.addEventListener("typing", (event) => {
    const names = event.detail.users.map((user) => user.name);
    $("typing").textContent = names.length ? `${names.join(", ")} typing…` : "";
  });
  client.connect();
}

function members(list) {
  $("members").replaceChildren(
    ...list.map((member) => Object.assign(document.createElement("li"), { textContent: member.name })),
  );
}

$("composer").addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = $("body").value.trim();
  if (!body || !state.client) return;
  $("body").value = "";
  await state.client.send(room, body);
  state.acked += 1;
});
$("body").addEventListener("input", () => state.client?.typing(room));
$("login").addEventListener("submit", login);

if (token) start();
else $("login").hidden = false;
