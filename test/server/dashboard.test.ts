/**
 * The dashboard in a real browser: Debian's chromium driven by playwright-core against a real server (real store,
 * real generation worker on the shipped SEAL-mini). The server requires an API key, so the page must load without
 * one and then work with the key typed into its field. Set SEAL_DASHBOARD_SCREENSHOT=FILE to keep a screenshot.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import { after, before, test } from "node:test";
import { type Browser, chromium, type Page } from "playwright-core";
import { startTestServer, type TestServer } from "./test-server.js";

const CHROMIUM = "/usr/bin/chromium";
const API_KEY = "dashboard-test-key";
const skip = fs.existsSync(CHROMIUM) ? false : `Debian's chromium (${CHROMIUM}) is not installed`;

let server: TestServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

before(async () => {
  if (skip) return;
  server = await startTestServer({ apiKey: API_KEY });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on("pageerror", (error) => pageErrors.push(error.message));
});

after(async () => {
  if (skip) return;
  const shot = process.env.SEAL_DASHBOARD_SCREENSHOT;
  if (shot) await page.screenshot({ path: shot, fullPage: true });
  await browser?.close();
  await server?.close();
  assert.deepEqual(pageErrors, [], "the page threw");
  assert.deepEqual(server.errors, [], "the server logged errors");
});

const documentRow = (id: string) => page.locator(`#documents tbody tr[data-doc-id="${id}"]`);

test("the page loads without a key, says the API needs one, and works once it is entered", { skip }, async () => {
  await page.goto(`${server.baseUrl}/`);
  await page.locator("#error").waitFor({ state: "visible" });
  assert.match(await page.locator("#error").innerText(), /401.*API key/s);
  await page.fill("#api-key", API_KEY);
  await page.click("#key-form button[type=submit]");
  await page.locator("#error").waitFor({ state: "hidden" });
  assert.equal(await page.evaluate('localStorage.getItem("seal.apiKey")'), API_KEY);
  await page.locator('[data-count="pending"] b').waitFor();
  assert.equal(await page.locator('[data-count="pending"] b').innerText(), "0");
  assert.match(await page.locator("#health").innerText(), /running/);
});

let added: string;

test("a document added through the form appears as pending with its probe", { skip }, async () => {
  await page.fill("#doc-title", "Lamnaezo Kimzho");
  await page.fill("#doc-text", "Lamnaezo Kimzho's birthplace was Pebulzhos. Her field was philosophy.");
  await page.fill("#probe-question", "Where was Lamnaezo Kimzho born?");
  await page.fill("#probe-answer", "Pebulzhos");
  await page.click("#add-document button[type=submit]");
  await page
    .locator("#add-result")
    .filter({ hasText: /added doc_/ })
    .waitFor();
  added = /doc_[0-9a-f]+/.exec(await page.locator("#add-result").innerText())![0];
  const row = documentRow(added);
  await row.waitFor();
  assert.equal(await row.getAttribute("data-doc-state"), "pending");
  assert.equal(await row.locator("td").nth(4).innerText(), "1");
  assert.equal(await page.locator('[data-count="pending"] b').innerText(), "1");
  const stored = server.store.getDocument(added)!;
  assert.equal(stored.state, "pending");
  assert.deepEqual(
    stored.probes.map(({ question, answer }) => ({ question, answer })),
    [{ question: "Where was Lamnaezo Kimzho born?", answer: "Pebulzhos" }],
  );
  // The same text again is not a new document.
  await page.fill("#doc-text", "Lamnaezo Kimzho's birthplace was Pebulzhos. Her field was philosophy.");
  await page.click("#add-document button[type=submit]");
  await page
    .locator("#add-result")
    .filter({ hasText: /already known/ })
    .waitFor();
});

test("the chat box streams an answer and names the document retrieval found", { skip }, async () => {
  await page.fill("#chat-input", "Where was Lamnaezo Kimzho born?");
  await page.click("#chat-form button[type=submit]");
  const reply = page.locator("#chat-log .msg.assistant:not(.pending)");
  await reply.waitFor({ timeout: 120_000 });
  assert.doesNotMatch(String(await reply.getAttribute("class")), /failed/);
  assert.notEqual((await reply.locator(".answer").innerText()).trim(), "");
  assert.match(await reply.locator(".meta").innerText(), new RegExp(added));
});

test("a blank probe answer is refused in the page with a clear message", { skip }, async () => {
  await page.fill("#doc-text", "Some other text.");
  await page.fill("#probe-question", "A question without an answer?");
  await page.fill("#probe-answer", "");
  await page.click("#add-document button[type=submit]");
  await page
    .locator("#error")
    .filter({ hasText: /question and an answer/ })
    .waitFor();
  await page.fill("#doc-text", "");
  await page.fill("#probe-question", "");
});

test("the forget button (clicked twice) forgets the document", { skip }, async () => {
  const button = documentRow(added).locator("button");
  await button.click();
  assert.equal(await button.innerText(), "Confirm forget");
  await button.click();
  await documentRow(added).waitFor({ state: "detached" });
  assert.equal(server.store.getDocument(added)!.state, "forgotten");
  assert.equal(await page.locator('[data-count="forgotten"] b').innerText(), "1");
  await page.click('[data-state-filter="forgotten"]');
  await documentRow(added).waitFor();
  assert.equal(await documentRow(added).getAttribute("data-doc-state"), "forgotten");
  assert.equal(await documentRow(added).locator("button").count(), 0);
  await page.click('[data-state-filter="pending"]');
});

/** Two finished consolidations in the store, as the job records them: the second version is the active one. */
function recordHistory(): { first: number; second: number } {
  const store = server.store;
  const { document: a } = store.addDocument({ text: "Pebulzhos lies on the river Dhumlae.", probes: [] });
  const { document: b } = store.addDocument({ text: "Gaege Works makes calligraphy brushes.", probes: [] });
  const finish = (documentIds: string[], parent: number | null) => {
    const c = store.startConsolidation({
      trigger: "manual",
      documentIds,
      parentVersionId: parent,
      mode: "incremental",
      settings: {},
    });
    const version = store.createVersion({
      consolidationId: c.id,
      parentId: parent,
      adapterPath: null,
      status: "active",
      reason: null,
      documentIds,
    });
    store.updateConsolidation(c.id, {
      state: "promoted",
      phase: "done",
      versionId: version.id,
      finishedAt: new Date().toISOString(),
    });
    return version.id;
  };
  const first = finish([a.id], null);
  const second = finish([b.id], first);
  let asked = 0;
  // one probe evaluation (each its own question: the store keeps one row per version, document, phase and question)
  const row = (documentId: string, group: "new" | "earlier", phase: "before" | "after", correct: boolean) => ({
    versionId: second,
    documentId,
    group,
    phase,
    question: `q${asked++}`,
    answer: "a",
    prediction: correct ? "a" : "x",
    correct,
  });
  store.saveEvaluations([
    row(b.id, "new", "before", true),
    row(b.id, "new", "before", false),
    row(b.id, "new", "before", false),
    row(b.id, "new", "before", false),
    row(b.id, "new", "after", true),
    row(b.id, "new", "after", true),
    row(b.id, "new", "after", true),
    row(b.id, "new", "after", false),
    row(a.id, "earlier", "before", true),
    row(a.id, "earlier", "before", true),
    row(a.id, "earlier", "after", true),
    row(a.id, "earlier", "after", false),
  ]);
  return { first, second };
}

let versions: { first: number; second: number };

test("the consolidation history shows accuracy before → after and forgetting per version", { skip }, async () => {
  versions = recordHistory();
  const history = page.locator("#consolidations tbody tr[data-consolidation-id]");
  await history.nth(1).waitFor();
  const second = server.store.getVersion(versions.second)!.consolidationId!;
  const row = page.locator(`#consolidations tr[data-consolidation-id="${second}"]`);
  assert.equal(await row.getAttribute("data-consolidation-state"), "promoted");
  assert.equal(await row.locator('[data-figure="new"]').innerText(), "25.0% → 75.0%");
  assert.equal(await row.locator('[data-figure="earlier"]').innerText(), "100.0% → 50.0%");
  assert.equal(await row.locator('[data-figure="forgetting"]').innerText(), "50.0%");
});

test("the version list marks the active version and Activate rolls back", { skip }, async () => {
  const active = page.locator(`#versions tr[data-version-id="${versions.second}"]`);
  await active.waitFor();
  assert.equal(await active.getAttribute("data-version-status"), "active");
  assert.match(await active.innerText(), /serving/);
  const older = page.locator(`#versions tr[data-version-id="${versions.first}"]`);
  assert.equal(await older.getAttribute("data-version-status"), "inactive");
  await older.locator("button", { hasText: "Activate" }).click();
  await page.locator(`#versions tr[data-version-id="${versions.first}"][data-version-status="active"]`).waitFor();
  assert.equal(server.store.activeVersion()!.id, versions.first);
  assert.equal(
    await page.locator(`#versions tr[data-version-id="${versions.second}"]`).getAttribute("data-version-status"),
    "inactive",
  );
});

test("Consolidate now runs a consolidation whose row ends with its accuracy figures", { skip }, async () => {
  await page.fill("#doc-text", "Dhumlae University was founded in 1850 by Lamnaezo Kimzho.");
  await page.fill("#probe-question", "When was Dhumlae University founded?");
  await page.fill("#probe-answer", "1850");
  await page.click("#add-document button[type=submit]");
  await page
    .locator("#add-result")
    .filter({ hasText: /added doc_/ })
    .waitFor();
  await page.click("#consolidate");
  const started = page.locator("#consolidate-result").filter({ hasText: /consolidation #\d+: [a-z]+/ });
  await started.waitFor();
  const id = Number(/#(\d+)/.exec(await started.innerText())![1]);
  assert.ok(server.store.getConsolidation(id) !== null);
  // The real consolidation service finishes it (small settings); the page shows the outcome on a refresh.
  const row = page.locator(`#consolidations tr[data-consolidation-id="${id}"]`);
  await page
    .locator(
      `#consolidations tr[data-consolidation-id="${id}"]:is([data-consolidation-state="promoted"], [data-consolidation-state="rejected"])`,
    )
    .waitFor({ timeout: 300_000 });
  const final = server.store.getConsolidation(id)!;
  assert.equal(await row.getAttribute("data-consolidation-state"), final.state);
  await page
    .locator("#consolidate-result")
    .filter({ hasText: `consolidation #${id}: ${final.state}` })
    .waitFor();
  assert.match(await row.locator('[data-figure="new"]').innerText(), /^\d+\.\d% → \d+\.\d%$/);
});
