// The minimal VISA portal: plain ES module, no build step. It talks to the REST API with the
// bearer token the user typed (kept in sessionStorage) and opens desktops with noVNC.

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "visa.token";
let rfb = null;
let refreshTimer = null;

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

async function openDesktop(instance) {
  const status = await (await fetch("/portal/status")).json();
  if (!status.novnc) {
    say("The desktop viewer (noVNC) is still being installed; try again in a moment.", true);
    return;
  }
  try {
    const ticket = await api("POST", `/account/instances/${instance.uid}/auth/token`);
    const clientId = crypto.randomUUID();
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const url = `${scheme}://${location.host}/api/ws/vdi/${ticket.token}/${clientId}/vnc`;
    const { default: RFB } = await import(`/portal/novnc/core/rfb.js`);
    show("desktop");
    $("desktop-title").textContent = `Desktop: ${instance.name}`;
    rfb = new RFB($("screen"), url);
    rfb.scaleViewport = true;
    rfb.addEventListener("connect", () => {
      window.__visaDesktopConnected = true;
      say(`Connected to ${instance.name}`);
      $("screen").focus();
    });
    rfb.addEventListener("disconnect", (event) => {
      window.__visaDesktopConnected = false;
      say(event.detail.clean ? "Disconnected" : "The desktop connection was lost", !event.detail.clean);
    });
  } catch (error) {
    say(`Cannot open the desktop: ${error.message}`, true);
  }
}

function closeDesktop() {
  if (rfb) rfb.disconnect();
  rfb = null;
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
  if (rfb) rfb.disconnect();
  show("sign-in");
  say("Signed out");
}

$("sign-in-form").addEventListener("submit", signIn);
$("new-instance").addEventListener("submit", create);
$("close-desktop").addEventListener("click", closeDesktop);
$("sign-out").addEventListener("click", signOut);
signIn();
