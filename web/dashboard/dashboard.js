// The seal serve dashboard: plain browser JavaScript over the server's HTTP API (no build step, no framework).
// Every value from the server is written with textContent, never as HTML.

const REFRESH_MS = 3000;
const KEY_STORAGE = "seal.apiKey";

const state = { filter: "pending", refreshing: false, again: false, errorSource: null, started: null };

const $ = (selector) => document.querySelector(selector);

function apiKey() {
  return localStorage.getItem(KEY_STORAGE) ?? "";
}

function headers(json) {
  const h = {};
  if (json) h["content-type"] = "application/json";
  const key = apiKey();
  if (key) h.authorization = `Bearer ${key}`;
  return h;
}

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Turns a non-2xx response into an ApiError carrying the server's OpenAI-shaped message. */
async function failure(response) {
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = await response.json();
    if (body?.error?.message) message = `${response.status}: ${body.error.message}`;
  } catch {
    // not JSON: keep the status line
  }
  if (response.status === 401) message += " — set the API key above";
  return new ApiError(response.status, message);
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: headers(body !== undefined),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw await failure(response);
  return response.json();
}

// ---- errors ----

function showError(source, error) {
  const box = $("#error");
  box.textContent = `${source}: ${error instanceof Error ? error.message : String(error)}`;
  box.hidden = false;
  state.errorSource = source;
}

function clearError(source) {
  if (state.errorSource !== source) return;
  const box = $("#error");
  box.hidden = true;
  box.textContent = "";
  state.errorSource = null;
}

// ---- small DOM helpers ----

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "class") node.className = value;
    else if (name.startsWith("data-")) node.setAttribute(name, value);
    else node[name] = value;
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function time(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleString();
}

function short(text, max) {
  const s = String(text ?? "");
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** A two-step button: the first click arms it, the second (within 4 s) acts. For irreversible actions. */
function confirmButton(label, confirmLabel, action) {
  const button = el("button", { type: "button", textContent: label });
  let armed = null;
  button.addEventListener("click", async () => {
    if (armed === null) {
      button.textContent = confirmLabel;
      button.classList.add("armed");
      armed = setTimeout(() => {
        armed = null;
        button.textContent = label;
        button.classList.remove("armed");
      }, 4000);
      return;
    }
    clearTimeout(armed);
    armed = null;
    button.disabled = true;
    await action();
  });
  return button;
}

// ---- accuracy figures from a consolidation report / version evaluations ----

/** A fraction from the shapes a report may use: 0.4, {accuracy}, {mean}, {correct, total}. */
function fraction(value) {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (value && typeof value === "object") {
    for (const key of ["accuracy", "mean", "value", "rate"]) {
      if (typeof value[key] === "number") return value[key];
    }
    if (typeof value.correct === "number" && typeof value.total === "number" && value.total > 0) {
      return value.correct / value.total;
    }
  }
  return null;
}

/** {before, after} for a probe group ("new" | "earlier"), looked up in the usual places of a report object. */
function groupAccuracy(source, group) {
  if (!source || typeof source !== "object") return { before: null, after: null };
  const candidates = [source[group], source.accuracy?.[group], source.evaluation?.[group], source.gate?.[group]];
  for (const candidate of candidates) {
    if (candidate && typeof candidate === "object") {
      const before = fraction(candidate.before);
      const after = fraction(candidate.after);
      if (before !== null || after !== null) return { before, after };
    }
  }
  // the consolidation job's headline figures: report.accuracy = {newBefore, newAfter, earlierBefore, ...}
  for (const flatSource of [source.accuracy, source]) {
    if (!flatSource || typeof flatSource !== "object") continue;
    const flat = { before: fraction(flatSource[`${group}Before`]), after: fraction(flatSource[`${group}After`]) };
    if (flat.before !== null || flat.after !== null) return flat;
  }
  return { before: null, after: null };
}

/** Accuracy per group from raw evaluation rows ({group, phase, correct}), when a version lists them. */
function accuracyFromRows(rows, group) {
  const pick = (phase) => {
    const mine = rows.filter((row) => row.group === group && row.phase === phase);
    return mine.length === 0 ? null : mine.filter((row) => row.correct).length / mine.length;
  };
  return { before: pick("before"), after: pick("after") };
}

function versionAccuracy(version, group) {
  if (!version) return { before: null, after: null };
  const evaluations = version.evaluations ?? version.evaluation ?? version.summary;
  if (Array.isArray(evaluations)) return accuracyFromRows(evaluations, group);
  return groupAccuracy(evaluations, group);
}

function figures(consolidation, version) {
  const fromReport = (group) => groupAccuracy(consolidation.report, group);
  const merge = (a, b) => ({ before: a.before ?? b.before, after: a.after ?? b.after });
  const fresh = merge(fromReport("new"), versionAccuracy(version, "new"));
  const earlier = merge(fromReport("earlier"), versionAccuracy(version, "earlier"));
  const report = consolidation.report ?? {};
  let forgetting =
    fraction(report.accuracy?.forgetting) ?? fraction(report.gate?.forgetting) ?? fraction(report.forgetting);
  if (forgetting === null && earlier.before !== null && earlier.after !== null) {
    forgetting = earlier.before - earlier.after;
  }
  return { fresh, earlier, forgetting };
}

function percent(value) {
  return value === null || value === undefined ? "–" : `${(value * 100).toFixed(1)}%`;
}

function pair({ before, after }) {
  if (before === null && after === null) return "–";
  return `${percent(before)} → ${percent(after)}`;
}

// ---- rendering ----

function renderCounts(counts) {
  const box = $("#counts");
  box.replaceChildren();
  for (const name of ["pending", "consolidated", "forgotten"]) {
    box.append(
      el("span", { class: `count ${name}`, "data-count": name }, `${name}: `, el("b", {}, counts?.[name] ?? 0)),
    );
  }
}

function renderDocuments(list) {
  const body = $("#documents tbody");
  body.replaceChildren();
  if (list.data.length === 0) {
    body.append(el("tr", {}, el("td", { colSpan: 7, class: "empty" }, "no documents")));
  }
  for (const doc of list.data) {
    const forget =
      doc.state === "forgotten"
        ? ""
        : confirmButton("Forget", "Confirm forget", async () => {
            try {
              await api("DELETE", `/v1/memory/documents/${encodeURIComponent(doc.id)}`);
              clearError("forget");
            } catch (error) {
              showError("forget", error);
            }
            await refresh();
          });
    const row = el(
      "tr",
      { "data-doc-id": doc.id, "data-doc-state": doc.state },
      el("td", { class: "mono" }, doc.id),
      el("td", { title: short(doc.text, 600) }, short(doc.title, 80)),
      el("td", {}, el("span", { class: `badge ${doc.state}` }, doc.state)),
      el("td", {}, doc.kind),
      el("td", {}, Array.isArray(doc.probes) ? doc.probes.length : 0),
      el("td", {}, time(doc.createdAt)),
      el("td", {}, forget),
    );
    body.append(row);
  }
  renderCounts(list.counts);
}

function renderConsolidations(consolidations, versions) {
  const byId = new Map(versions.map((version) => [version.id, version]));
  const mine = consolidations.find((c) => c.id === state.started);
  if (mine) $("#consolidate-result").textContent = `consolidation #${mine.id}: ${mine.state}`;
  const body = $("#consolidations tbody");
  body.replaceChildren();
  if (consolidations.length === 0) {
    body.append(el("tr", {}, el("td", { colSpan: 12, class: "empty" }, "no consolidations yet")));
  }
  for (const c of consolidations) {
    const version = c.versionId === null ? null : byId.get(c.versionId);
    const f = figures(c, version);
    const note = c.error ?? version?.reason ?? c.report?.reason ?? c.report?.gate?.reason ?? "";
    body.append(
      el(
        "tr",
        { "data-consolidation-id": c.id, "data-consolidation-state": c.state },
        el("td", {}, c.id),
        el("td", {}, c.trigger),
        el("td", {}, el("span", { class: `badge ${c.state}` }, c.state)),
        el("td", {}, c.phase),
        el("td", {}, Array.isArray(c.documentIds) ? c.documentIds.length : ""),
        el("td", {}, c.mode),
        el("td", {}, c.versionId ?? ""),
        el("td", { class: "num", "data-figure": "new" }, pair(f.fresh)),
        el("td", { class: "num", "data-figure": "earlier" }, pair(f.earlier)),
        el("td", { class: "num", "data-figure": "forgetting" }, f.forgetting === null ? "–" : percent(f.forgetting)),
        el("td", {}, time(c.startedAt)),
        el("td", { class: "note", title: String(note) }, short(note, 80)),
      ),
    );
  }
}

function renderVersions(versions) {
  const body = $("#versions tbody");
  body.replaceChildren();
  if (versions.length === 0) {
    body.append(el("tr", {}, el("td", { colSpan: 7, class: "empty" }, "no versions yet: the base model serves")));
  }
  for (const v of versions) {
    let action = "";
    const activate = async (force) => {
      try {
        await api("POST", `/v1/memory/versions/${encodeURIComponent(v.id)}/activate`, force ? { force: true } : {});
        clearError("activate");
      } catch (error) {
        showError("activate", error);
      }
      await refresh();
    };
    if (v.status === "active") action = el("span", { class: "badge active-marker" }, "● serving");
    else if (v.status === "rejected") action = confirmButton("Force activate", "Confirm force", () => activate(true));
    else {
      action = el("button", { type: "button", textContent: "Activate" });
      action.addEventListener("click", () => {
        action.disabled = true;
        activate(false);
      });
    }
    body.append(
      el(
        "tr",
        { "data-version-id": v.id, "data-version-status": v.status, class: v.status === "active" ? "active-row" : "" },
        el("td", {}, v.id),
        el("td", {}, el("span", { class: `badge ${v.status}` }, v.status)),
        el("td", {}, v.parentId ?? "base"),
        el("td", {}, Array.isArray(v.documentIds) ? v.documentIds.length : ""),
        el("td", {}, time(v.createdAt)),
        el("td", { class: "note", title: v.reason ?? "" }, short(v.reason ?? "", 80)),
        el("td", {}, action),
      ),
    );
  }
}

function renderHealth(health) {
  const pill = $("#health");
  if (!health) {
    pill.dataset.state = "down";
    pill.textContent = "unreachable";
    return;
  }
  const gen = health.generation ?? {};
  const parts = [health.model ?? "model"];
  if (typeof gen.running === "number") parts.push(`${gen.running} running / ${gen.queued ?? 0} queued`);
  if (health.consolidating) parts.push("consolidating…");
  pill.dataset.state = health.consolidating ? "busy" : "ok";
  pill.textContent = parts.join(" · ");
}

// ---- refresh loop ----

/** Reloads everything; a call made while one runs makes it run once more, so an action's result always shows. */
async function refresh() {
  if (state.refreshing) {
    state.again = true;
    return;
  }
  state.refreshing = true;
  try {
    let health = null;
    try {
      const response = await fetch("/health");
      if (response.ok) health = await response.json();
    } catch {
      // the server is down: the pill says so
    }
    renderHealth(health);
    const query = new URLSearchParams({ limit: "200" });
    if (state.filter) query.set("state", state.filter);
    const [documents, consolidations, versions] = await Promise.all([
      api("GET", `/v1/memory/documents?${query}`),
      api("GET", "/v1/memory/consolidations"),
      api("GET", "/v1/memory/versions"),
    ]);
    const versionList = versions.data ?? [];
    renderDocuments(documents);
    renderConsolidations(consolidations.data ?? [], versionList);
    renderVersions(versionList);
    $("#refreshed").textContent = `updated ${new Date().toLocaleTimeString()}`;
    clearError("refresh");
  } catch (error) {
    showError("refresh", error);
  } finally {
    state.refreshing = false;
  }
  if (state.again) {
    state.again = false;
    await refresh();
  }
}

// ---- forms ----

function setupKey() {
  const input = $("#api-key");
  input.value = apiKey();
  $("#key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (key) localStorage.setItem(KEY_STORAGE, key);
    else localStorage.removeItem(KEY_STORAGE);
    refresh();
  });
}

function setupTabs() {
  for (const button of document.querySelectorAll("[data-state-filter]")) {
    button.addEventListener("click", () => {
      state.filter = button.dataset.stateFilter;
      for (const other of document.querySelectorAll("[data-state-filter]"))
        other.classList.toggle("active", other === button);
      refresh();
    });
  }
}

function setupAddDocument() {
  const form = $("#add-document");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const body = { text: String(data.get("text") ?? "") };
    const title = String(data.get("title") ?? "").trim();
    const source = String(data.get("source") ?? "").trim();
    const question = String(data.get("question") ?? "").trim();
    const answer = String(data.get("answer") ?? "").trim();
    if (title) body.title = title;
    if (source) body.source = source;
    if (question || answer) {
      if (!question || !answer) {
        showError("add document", new Error("a probe needs both a question and an answer"));
        return;
      }
      body.probes = [{ question, answer }];
    }
    try {
      const result = await api("POST", "/v1/memory/documents", body);
      $("#add-result").textContent = result.created
        ? `added ${result.document.id}`
        : `already known: ${result.document.id} (${result.document.state})`;
      form.reset();
      clearError("add document");
    } catch (error) {
      showError("add document", error);
    }
    await refresh();
  });
}

function setupConsolidate() {
  const button = $("#consolidate");
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const result = await api("POST", "/v1/memory/consolidate", { rebuild: $("#rebuild").checked });
      const c = result.consolidation;
      $("#consolidate-result").textContent = c ? `consolidation #${c.id}: ${c.state}` : "started";
      state.started = c?.id ?? null;
      clearError("consolidate");
    } catch (error) {
      showError("consolidate", error);
    } finally {
      button.disabled = false;
    }
    await refresh();
  });
}

/** Reads an SSE body and calls onEvent with each `data:` payload (the string "[DONE]" included). */
async function readEvents(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut = buffer.indexOf("\n\n");
    while (cut !== -1) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const data = block
        .split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).trimStart())
        .join("\n");
      if (data) onEvent(data);
      cut = buffer.indexOf("\n\n");
    }
  }
}

function setupChat() {
  const form = $("#chat-form");
  const log = $("#chat-log");
  const history = [];
  // Enter sends, Shift+Enter starts a new line
  $("#chat-input").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("#chat-input");
    const content = input.value.trim();
    if (!content) return;
    input.value = "";
    history.push({ role: "user", content });
    log.append(el("div", { class: "msg user" }, el("b", {}, "you "), content));
    const answer = el("span", { class: "answer" });
    const meta = el("div", { class: "meta" });
    const bubble = el("div", { class: "msg assistant pending" }, el("b", {}, "model "), answer, meta);
    log.append(bubble);
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    const body = {
      model: "seal",
      messages: history.slice(-8),
      stream: true,
      max_tokens: Math.max(1, Number($("#chat-max-tokens").value) || 64),
    };
    const retrieval = $("#chat-retrieval").value;
    if (retrieval) body.seal = { retrieval };
    let retrieved = null;
    let finish = null;
    try {
      const response = await fetch("/v1/chat/completions", {
        method: "POST",
        headers: headers(true),
        body: JSON.stringify(body),
      });
      if (!response.ok) throw await failure(response);
      await readEvents(response, (data) => {
        if (data === "[DONE]") return;
        const chunk = JSON.parse(data);
        if (chunk.error) throw new Error(chunk.error.message ?? "stream error");
        if (Array.isArray(chunk.seal?.retrieved)) retrieved = chunk.seal.retrieved;
        const choice = chunk.choices?.[0];
        if (choice?.delta?.content) answer.textContent += choice.delta.content;
        if (choice?.finish_reason) finish = choice.finish_reason;
      });
      history.push({ role: "assistant", content: answer.textContent });
      if (retrieved === null && retrieval === "none") {
        meta.textContent = "retrieval off";
      } else if (retrieved === null) {
        // The stream did not report retrieval: show what the server's search finds for the message instead.
        const found = await api("GET", `/v1/memory/search?${new URLSearchParams({ q: content, limit: "3" })}`);
        const ids = (found.data ?? []).map((hit) => hit.document?.id ?? hit.id).filter(Boolean);
        meta.textContent = `search matches (the stream did not list retrieved documents): ${ids.length ? ids.join(", ") : "none"}`;
      } else {
        meta.textContent = `retrieved: ${retrieved.length ? retrieved.join(", ") : "none"}`;
      }
      if (finish) meta.textContent += ` · finish: ${finish}`;
      meta.dataset.retrieved = retrieved === null ? "" : retrieved.join(",");
      clearError("chat");
    } catch (error) {
      bubble.classList.add("failed");
      showError("chat", error);
    } finally {
      bubble.classList.remove("pending");
      submit.disabled = false;
    }
  });
}

setupKey();
setupTabs();
setupAddDocument();
setupConsolidate();
setupChat();
refresh();
setInterval(refresh, REFRESH_MS);
