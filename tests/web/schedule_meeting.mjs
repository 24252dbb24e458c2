// Schedules a meeting through the page Chorus serves at `/`, as a person would, in headless Chromium.
//
//   node tests/web/schedule_meeting.mjs --url http://127.0.0.1:PORT/ --token-file DATA/admin-token \
//        --title "Web test" --room 1000 --start 2026-12-03T09:30 --end 2026-12-03T10:15 \
//        --timezone Europe/Berlin [--attendees "a@example.com, b@example.com"] --screenshot OUT/page.png [--chromium /usr/bin/chromium] [--timeout-ms 20000]
//
// Steps: open the page with the browser's zone set to --timezone (so the form's default zone is it),
// type the token and press "Use token", wait until the room list has --room, fill the form, press
// "Schedule", wait for the POST /v1/meetings answer and the "Scheduled …" notice, then for the title in
// that room's "Upcoming" list (the page's own GET /v1/meetings + occurrences). A full-page screenshot
// is taken at the end, and also when a step fails. Prints one JSON object on stdout; exit 0 when
// every step happened, 1 otherwise (the JSON then has `error`). Console errors, page errors and
// failed requests are reported too: the page must load with no console error and no CSP violation.
//
// The browser is always the given executable (the Debian `chromium`): playwright-core never
// downloads one, and PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD is set for good measure.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

process.env.PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD = "1";
const { chromium } = await import("playwright-core");

const { values: opts } = parseArgs({
  options: {
    url: { type: "string" },
    "token-file": { type: "string" },
    title: { type: "string" },
    room: { type: "string", default: "1000" },
    start: { type: "string" },
    end: { type: "string" },
    timezone: { type: "string", default: "UTC" },
    attendees: { type: "string", default: "" },
    screenshot: { type: "string" },
    chromium: { type: "string", default: "/usr/bin/chromium" },
    "timeout-ms": { type: "string", default: "20000" },
  },
});
for (const required of ["url", "token-file", "title", "start", "end", "screenshot"]) {
  if (!opts[required]) {
    console.error(`missing --${required}`);
    process.exit(2);
  }
}
const timeoutMs = Number(opts["timeout-ms"]);

// The peers README's flags for a headless Chromium run as root without a GPU or a network.
const kChromiumArgs = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--disable-dev-shm-usage",
];

const result = { steps: [], console_errors: [], page_errors: [], failed_requests: [], error_responses: [] };

function step(name) {
  result.steps.push(name);
}

async function run(page) {
  await page.goto(opts.url, { waitUntil: "load" });
  step("loaded");
  result.page_title = await page.title();

  await page.getByLabel("Bearer token", { exact: true }).fill(readFileSync(opts["token-file"], "utf8").trim());
  await page.getByRole("button", { name: "Use token" }).click();
  // The room select is filled from GET /v1/rooms once the token is accepted.
  await page.locator(`#room option[value="${opts.room}"]`).waitFor({ state: "attached" });
  await page.locator(`#rooms .room[data-room-id="${opts.room}"]`).waitFor();
  step("rooms listed");
  result.default_timezone = await page.locator("#timezone").inputValue();

  // The join form has a "Room" field too: the scheduling form's fields are looked up inside it.
  const form = page.locator("#schedule-form");
  await form.getByLabel("Title", { exact: true }).fill(opts.title);
  await form.getByLabel("Room", { exact: true }).selectOption(opts.room);
  await form.getByLabel("Starts", { exact: true }).fill(opts.start);
  await form.getByLabel("Ends", { exact: true }).fill(opts.end);
  await form.getByLabel("Time zone", { exact: true }).selectOption(opts.timezone);
  if (opts.attendees) await form.getByLabel(/^Attendees\b/).fill(opts.attendees);
  step("form filled");

  const posted = page.waitForResponse((r) => r.url().endsWith("/v1/meetings") && r.request().method() === "POST");
  await page.getByRole("button", { name: "Schedule" }).click();
  const response = await posted;
  result.post_status = response.status();
  result.post_body = await response.json().catch(() => null);
  result.request_body = JSON.parse(response.request().postData() || "null");
  step("posted");

  const notice = page.locator("#scheduled");
  await notice.waitFor({ state: "visible" });
  result.notice = (await notice.textContent()).trim();
  step("notice shown");

  const upcoming = page.locator(`#rooms .room[data-room-id="${opts.room}"] .upcoming .meeting-title`,
    { hasText: opts.title });
  await upcoming.first().waitFor();
  result.upcoming_titles = await page.locator(`#rooms .room[data-room-id="${opts.room}"] .meeting-title`).allTextContents();
  step("listed as upcoming");
}

// Chromium's start gets its own bound: slow on a busy machine, and not what the test measures.
const browser = await chromium.launch({
  executablePath: opts.chromium, headless: true, args: kChromiumArgs, timeout: 120000,
});
let code = 0;
try {
  const context = await browser.newContext({ timezoneId: opts.timezone, locale: "en-GB", viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(timeoutMs);
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    const where = m.location()?.url || "";
    // Chromium asks for /favicon.ico by itself; the page has no icon, and that 404 is not the page's doing.
    if (new URL(where || opts.url, opts.url).pathname === "/favicon.ico") result.favicon_missing = true;
    else result.console_errors.push(where ? `${m.text()} (${where})` : m.text());
  });
  page.on("pageerror", (e) => result.page_errors.push(String(e)));
  page.on("response", (r) => {
    if (r.status() >= 400) result.error_responses.push(`${r.request().method()} ${r.url()}: ${r.status()}`);
  });
  page.on("requestfailed", (r) => result.failed_requests.push(`${r.method()} ${r.url()}: ${r.failure()?.errorText}`));
  try {
    await run(page);
  } catch (error) {
    result.error = String(error && error.message ? error.message : error).split("\n")[0];
    code = 1;
  }
  await page.screenshot({ path: opts.screenshot, fullPage: true }).then(() => (result.screenshot = opts.screenshot),
    (error) => (result.screenshot_error = String(error)));
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
process.exit(code);
