// The minimal VISA portal: plain ES module, no build step. It talks to the REST API with the
// bearer token the user typed (kept in sessionStorage) and opens desktops with the viewer of the
// instance's protocol: guacamole-common-js (Guacamole, as visa-web) or noVNC (VNC).

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "visa.token";
const options = new URLSearchParams(location.search);
// Thumbnails as visa-web takes them (spec §1.12): 320 px wide JPEG, quality 0.8, 10 s after
// connecting then every 60 s. ?thumbnail-after=<s>&thumbnail-every=<s> change the delays.
const THUMBNAIL_WIDTH = 320;
const THUMBNAIL_QUALITY = 0.8;
const THUMBNAIL_AFTER_MS = seconds(options.get("thumbnail-after"), 10) * 1000;
const THUMBNAIL_EVERY_MS = seconds(options.get("thumbnail-every"), 60) * 1000;
const GUACAMOLE_MODULE = "/portal/guacamole/dist/esm/guacamole-common.js";
const CONNECTED = 3; // Guacamole.Client.State.CONNECTED
const DISCONNECTED = 5; // Guacamole.Client.State.DISCONNECTED
let viewer = null; // { disconnect(), canvas() } of the open desktop
let thumbnailTimers = [];
let refreshTimer = null;
// what the thumbnail loop did, for tests and curious people
window.__visaThumbnails = { captured: 0, uploaded: 0 };

function seconds(value, fallback) {
  const number = Number(value);
  return value !== null && Number.isFinite(number) && number > 0 ? number : fallback;
}

function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

function say(message, isError = false) {
  const status = $("status");
  status.textContent = message;
  status.classList.toggle("error", isError);
}

async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${token()}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(`/api${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json().catch(() => ({}));
  if (!response.ok) {
    const reason = (json.errors && json.errors[0]) || json.message || response.statusText;
    const error = new Error(typeof reason === "string" ? reason : JSON.stringify(reason));
    error.status = response.status;
    throw error;
  }
  return json.data;
}

function show(section) {
  for (const id of ["sign-in", "instances", "desktop"]) $(id).hidden = id !== section;
  const signedIn = section !== "sign-in";
  $("who").hidden = !signedIn;
  $("sign-out").hidden = !signedIn;
}

function button(label, onClick) {
  const element = document.createElement("button");
  element.type = "button";
  element.textContent = label;
  element.addEventListener("click", onClick);
  return element;
}

async function action(instance, name) {
  try {
    if (name === "delete") await api("DELETE", `/account/instances/${instance.id}`);
    else await api("POST", `/account/instances/${instance.id}/actions/${name}`);
    say(`${instance.name}: ${name} requested`);
  } catch (error) {
    say(`${instance.name}: ${error.message}`, true);
  }
  await refresh();
}

async function refresh() {
  const instances = await api("GET", "/account/instances");
  const rows = $("instance-rows");
  rows.replaceChildren();
  $("no-instances").hidden = instances.length > 0;
  for (const instance of instances) {
    const row = document.createElement("tr");
    row.dataset.uid = instance.uid;
    row.dataset.state = instance.state;
    const plan = instance.plan || {};
    const cells = [
      instance.name,
      instance.state,
      `${(plan.image || {}).name || ""} / ${(plan.flavour || {}).name || ""}`,
    ];
    for (const text of cells) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    const actions = document.createElement("td");
    if (instance.state === "ACTIVE" || instance.state === "PARTIALLY_ACTIVE") {
      actions.append(button("Open desktop", () => openDesktop(instance)));
      actions.append(button("Stop", () => action(instance, "shutdown")));
      actions.append(button("Reboot", () => action(instance, "reboot")));
    }
    if (instance.state === "STOPPED" || instance.state === "ERROR") {
      actions.append(button("Start", () => action(instance, "start")));
    }
    if (instance.state !== "DELETING" && instance.state !== "DELETED") {
      actions.append(button("Delete", () => action(instance, "delete")));
    }
    row.append(actions);
    rows.append(row);
  }
}

async function loadForm() {
  const [plans, configuration] = await Promise.all([
    api("GET", "/plans"),
    api("GET", "/configuration"),
  ]);
  const planSelect = $("new-plan");
  planSelect.replaceChildren(
    ...plans.map((plan) => new Option(`${plan.image.name} / ${plan.flavour.name}`, plan.id)),
  );
  const layouts = configuration.desktop.keyboardLayouts;
  const layoutSelect = $("new-layout");
  layoutSelect.replaceChildren(
    ...layouts.map((l) => new Option(l.name, l.layout, l.selected, l.selected)),
  );
}

async function create(event) {
  event.preventDefault();
  const body = {
    name: $("new-name").value,
    planId: Number($("new-plan").value),
    keyboardLayout: $("new-layout").value,
    screenWidth: Math.max(800, Math.min(window.screen.width, 2560)),
    screenHeight: Math.max(600, Math.min(window.screen.height, 1600)),
    acceptedTerms: true,
    experiments: [],
  };
  try {
    const instance = await api("POST", "/account/instances", body);
    say(`${instance.name} is being created`);
    $("new-name").value = "";
  } catch (error) {
    say(`Cannot create the instance: ${error.message}`, true);
  }
  await refresh();
}

// The desktop protocol of an instance: its chosen VDI protocol, else its image's default.
function desktopProtocol(instance) {
  const image = (instance.plan || {}).image || {};
  const chosen = instance.vdiProtocol || image.defaultVdiProtocol;
  return chosen ? chosen.name : "GUACD";
}

async function openDesktop(instance) {
  const protocol = desktopProtocol(instance);
  if (protocol === "WEBX") {
    say("This portal cannot show WebX desktops.", true);
    return;
  }
  const useNovnc = protocol === "VNC";
  const status = await (await fetch("/portal/status")).json();
  if (!(useNovnc ? status.novnc : status.guacamole)) {
    const name = useNovnc ? "noVNC" : "guacamole-common-js";
    say(`The desktop viewer (${name}) is still being installed; try again in a moment.`, true);
    return;
  }
  try {
    const ticket = await api("POST", `/account/instances/${instance.uid}/auth/token`);
    const clientId = crypto.randomUUID();
    const path = `/api/ws/vdi/${ticket.token}/${clientId}`;
    show("desktop");
    $("desktop-title").textContent = `Desktop: ${instance.name}`;
    const events = {
      connected() {
        window.__visaDesktopConnected = true;
        say(`Connected to ${instance.name}`);
        $("screen").focus();
        startThumbnails(instance);
      },
      disconnected(clean, message) {
        window.__visaDesktopConnected = false;
        stopThumbnails();
        say(message || (clean ? "Disconnected" : "The desktop connection was lost"), !clean);
      },
    };
    viewer = useNovnc ? await openNovnc(path, events) : await openGuacamole(path, events);
  } catch (error) {
    say(`Cannot open the desktop: ${error.message}`, true);
  }
}

// noVNC's RFB client on the `vnc` desktop socket.
async function openNovnc(path, events) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const { default: RFB } = await import("/portal/novnc/core/rfb.js");
  const screen = $("screen");
  screen.replaceChildren();
  const rfb = new RFB(screen, `${scheme}://${location.host}${path}/vnc`);
  rfb.scaleViewport = true;
  rfb.addEventListener("connect", () => events.connected());
  rfb.addEventListener("disconnect", (event) => events.disconnected(event.detail.clean));
  return {
    disconnect: () => rfb.disconnect(),
    canvas: () => screen.querySelector("canvas"),
  };
}

// guacamole-common-js on the `guacamole` desktop socket, as visa-web opens it: a WebSocketTunnel
// on the relative path (it adds `?` and the connect data, empty here), mouse and keyboard wired
// to the display, the display scaled to fit.
async function openGuacamole(path, events) {
  const { default: Guacamole } = await import(GUACAMOLE_MODULE);
  const screen = $("screen");
  const client = new Guacamole.Client(new Guacamole.WebSocketTunnel(`${path}/guacamole`));
  const display = client.getDisplay();
  const element = display.getElement();
  screen.replaceChildren(element);
  const fit = () => {
    const width = display.getWidth();
    const height = display.getHeight();
    if (width && height) {
      display.scale(Math.min(screen.clientWidth / width, screen.clientHeight / height));
    }
  };
  display.onresize = fit;
  window.addEventListener("resize", fit);

  const mouse = new Guacamole.Mouse(element);
  mouse.onEach(["mousedown", "mousemove", "mouseup"], (event) => {
    if (event.type === "mousedown") screen.focus();
    client.sendMouseState(event.state, true);
  });
  const keyboard = new Guacamole.Keyboard(screen);
  keyboard.onkeydown = (keysym) => {
    client.sendKeyEvent(1, keysym);
  };
  keyboard.onkeyup = (keysym) => client.sendKeyEvent(0, keysym);

  let connected = false;
  let failure = null;
  client.onerror = (status) => {
    failure = `The desktop connection ended (${status.code}${status.message ? `: ${status.message}` : ""})`;
  };
  client.onstatechange = (state) => {
    if (state === CONNECTED && !connected) {
      connected = true;
      fit();
      events.connected();
    } else if (state === DISCONNECTED) {
      window.removeEventListener("resize", fit);
      keyboard.reset();
      events.disconnected(failure === null, failure);
    }
  };
  client.connect("");
  return {
    disconnect: () => client.disconnect(),
    canvas: () => (display.getWidth() ? display.flatten() : null),
  };
}

// A cheap digest of the thumbnail's bytes (two FNV-1a hashes): visa-web compares MD5s, which
// SubtleCrypto does not offer (and it is only there on secure origins); any digest will do.
function digest(bytes) {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ bytes.length;
  for (let i = 0; i < bytes.length; i++) {
    a = Math.imul(a ^ bytes[i], 0x01000193);
    b = Math.imul(b ^ bytes[i], 0x5bd1e995);
  }
  return `${(a >>> 0).toString(16)}-${(b >>> 0).toString(16)}-${bytes.length}`;
}

async function captureThumbnail(instance, state) {
  const source = viewer && viewer.canvas();
  if (!source || !source.width || !source.height) return;
  const canvas = document.createElement("canvas");
  canvas.width = THUMBNAIL_WIDTH;
  canvas.height = Math.max(1, Math.round((source.height * THUMBNAIL_WIDTH) / source.width));
  canvas.getContext("2d").drawImage(source, 0, 0, canvas.width, canvas.height);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", THUMBNAIL_QUALITY));
  if (!blob) return;
  window.__visaThumbnails.captured++;
  const hash = digest(new Uint8Array(await blob.arrayBuffer()));
  if (hash === state.last) return; // unchanged: not uploaded again
  const form = new FormData();
  form.append("file", blob, "thumbnail.jpg");
  const response = await fetch(`/api/account/instances/${instance.uid}/thumbnail`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token()}` },
    body: form,
  });
  if (response.ok) {
    state.last = hash;
    window.__visaThumbnails.uploaded++;
  }
}

// Owners and support users send thumbnails while connected (visa-web does the same).
function startThumbnails(instance) {
  stopThumbnails();
  const role = (instance.membership || {}).role;
  if (role !== "OWNER" && role !== "SUPPORT") return;
  const state = { last: null };
  const capture = () => captureThumbnail(instance, state).catch(() => {});
  thumbnailTimers.push(
    setTimeout(() => {
      capture();
      thumbnailTimers.push(setInterval(capture, THUMBNAIL_EVERY_MS));
    }, THUMBNAIL_AFTER_MS),
  );
}

function stopThumbnails() {
  for (const timer of thumbnailTimers) {
    clearTimeout(timer);
    clearInterval(timer);
  }
  thumbnailTimers = [];
}

function closeDesktop() {
  stopThumbnails();
  if (viewer) viewer.disconnect();
  viewer = null;
  show("instances");
  refresh();
}

async function signIn(event) {
  if (event) event.preventDefault();
  if (event) sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
  if (!token()) return show("sign-in");
  try {
    const account = await api("GET", "/account");
    $("who").textContent = `Signed in as ${account.fullName || account.id}`;
    show("instances");
    say("");
    fetch("/portal/status"); // installs the desktop viewer on first use
    await Promise.all([loadForm(), refresh()]);
    clearInterval(refreshTimer);
    refreshTimer = setInterval(() => {
      if (!$("instances").hidden) refresh().catch((e) => say(e.message, true));
    }, 3000);
  } catch (error) {
    sessionStorage.removeItem(TOKEN_KEY);
    show("sign-in");
    say(error.status === 401 ? "This token is not valid" : error.message, true);
  }
}

function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  clearInterval(refreshTimer);
  stopThumbnails();
  if (viewer) viewer.disconnect();
  viewer = null;
  show("sign-in");
  say("Signed out");
}

$("sign-in-form").addEventListener("submit", signIn);
$("new-instance").addEventListener("submit", create);
$("close-desktop").addEventListener("click", closeDesktop);
$("sign-out").addEventListener("click", signOut);
signIn();
