// End-to-end browser test of `govcap serve`: Playwright (playwright-core) drives the system
// Chromium through the publication scenario, checks the pages' behaviour, runs axe-core on the
// public pages and looks for horizontal overflow on a phone.
//
//   BASE_URL=http://127.0.0.1:PORT/ E2E_USER=lead E2E_PASSWORD=... node e2e/dashboard.mjs
//
// Environment:
//   BASE_URL          the server (loopback only), required
//   E2E_USER          a lead or admin account (default: lead)
//   E2E_PASSWORD      its password, required
//   CHROMIUM          the browser (default: /usr/bin/chromium)
//   E2E_OUT           where screenshots and summary.json go (default: a new temp dir)
//   E2E_STRICT_MAP=0  a click on a map shape that opens nothing is a warning, not a failure
//
// `govcap demo` publishes its runs, so the scenario first withdraws every published run through
// the JSON API (session + X-CSRF-Token), then publishes the newest one again through the staff
// pages, as a lead would.
//
// axe-core is evaluated with `page.evaluate(source)`: DevTools-protocol evaluation is not
// subject to the page's Content-Security-Policy, so axe runs in the same context, under the
// real CSP, as the rest of the scenario. (`bypassCSP: true` would switch the CSP off for the
// whole context, hiding the CSP violations this test also looks for.)
//
// Exit status: 0 when every check passed, 1 when one failed (all failures are printed), 2 when
// the test could not run (bad environment).

import { chromium, request as pwRequest } from 'playwright-core';
import { readFileSync, mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

const BASE = process.env.BASE_URL;
const USER = process.env.E2E_USER || 'lead';
const PASSWORD = process.env.E2E_PASSWORD;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const STRICT_MAP = process.env.E2E_STRICT_MAP !== '0';
if (!BASE || !PASSWORD) {
  console.error('dashboard.mjs: set BASE_URL and E2E_PASSWORD (and E2E_USER, default lead)');
  process.exit(2);
}
const base = new URL(BASE);
if (!['127.0.0.1', 'localhost', '[::1]'].includes(base.hostname)) {
  console.error(`dashboard.mjs: BASE_URL must be a loopback address, not ${base.hostname}`);
  process.exit(2);
}
const url = (p) => new URL(p, base).href;
/** The rows of a list answer: a bare array or a page `{items: [...]}`. */
const itemsOf = (b) => (Array.isArray(b) ? b : b && Array.isArray(b.items) ? b.items : []);
const OUT = process.env.E2E_OUT || mkdtempSync(join(tmpdir(), 'govcap-e2e-'));
mkdirSync(OUT, { recursive: true });
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

// ---- bookkeeping ---------------------------------------------------------------------------

const failures = [];
const warnings = [];
const timings = [];
const consoleErrors = [];
const axeReport = [];
let step = 'start';

function check(cond, msg) {
  if (cond) {
    console.log(`  ok   ${msg}`);
  } else {
    console.log(`  FAIL ${msg}`);
    failures.push(`[${step}] ${msg}`);
  }
  return !!cond;
}
function warn(msg) {
  console.log(`  WARN ${msg}`);
  warnings.push(`[${step}] ${msg}`);
}
let aborted = false;
async function section(name, fn, critical = false) {
  if (aborted) {
    console.log(`== ${name}: skipped (an earlier step failed)`);
    return;
  }
  step = name;
  const before = failures.length;
  console.log(`== ${name}`);
  const t0 = Date.now();
  try {
    await fn();
  } catch (e) {
    failures.push(`[${name}] threw: ${e && e.stack ? e.stack.split('\n').slice(0, 4).join(' | ') : e}`);
    console.log(`  FAIL threw: ${e && e.message}`);
  }
  const ms = Date.now() - t0;
  timings.push({ step: name, ms });
  console.log(`   (${ms} ms)`);
  if (critical && failures.length > before) aborted = true;
}

let faviconMissing = false;

/** Records console errors, CSP reports, uncaught exceptions and failed requests of a page. */
function watch(page, label) {
  page.on('console', (m) => {
    // Chromium asks for /favicon.ico on its own; a 404 there is noted once, not a failure.
    if (/\/favicon\.ico$/.test(m.location().url || '')) return;
    if (m.type() === 'error' || /Content.Security.Policy/i.test(m.text())) {
      consoleErrors.push(`${label} ${page.url()}: console.${m.type()}: ${m.text()}`);
    }
  });
  page.on('response', (r) => {
    if (new URL(r.url()).pathname === '/favicon.ico' && r.status() === 404 && !faviconMissing) {
      faviconMissing = true;
      warn('GET /favicon.ico is 404 (every page load logs a console error for it)');
    }
  });
  page.on('pageerror', (e) => consoleErrors.push(`${label} ${page.url()}: uncaught ${e.message}`));
  page.on('requestfailed', (r) => {
    // A navigation replaced by another one is aborted on purpose; everything else is a failure.
    const f = r.failure();
    if (f && /ERR_ABORTED/.test(f.errorText) && r.isNavigationRequest()) return;
    consoleErrors.push(`${label}: request failed ${r.method()} ${r.url()}: ${f && f.errorText}`);
  });
  return page;
}

async function shot(page, name, fullPage = false) {
  await page.screenshot({ path: join(OUT, `${name}.png`), fullPage });
}

/** Runs axe-core (WCAG 2 A and AA rules) on the page as it is now. */
async function axe(page, name, gating = true) {
  const has = await page.evaluate(() => typeof window.axe === 'object');
  if (!has) await page.evaluate(AXE_SOURCE);
  const res = await page.evaluate(async () =>
    window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] },
      resultTypes: ['violations'],
    }),
  );
  const vs = res.violations.map((v) => ({
    page: name,
    url: page.url(),
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.length,
    targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
    summary: (v.nodes[0] && v.nodes[0].failureSummary || '').split('\n').slice(0, 3).join(' '),
  }));
  axeReport.push(...vs.map((v) => ({ ...v, gating })));
  for (const v of vs) {
    console.log(`  axe  ${v.impact.padEnd(8)} ${v.id} (${v.nodes} nodes) on ${name}: ${v.targets.join(' , ')}`);
    console.log(`         ${v.help}; ${v.summary}`);
  }
  const bad = vs.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (gating) {
    check(bad.length === 0, `axe on ${name}: no serious or critical violation (${vs.length} violations in all)`);
  } else if (bad.length) {
    warn(`axe on ${name} (not gating): ${bad.map((v) => v.id).join(', ')}`);
  }
}

/** A point inside `path` that is really hit there (elementFromPoint), in page coordinates. */
async function pointInside(page, selector) {
  return page.evaluate((sel) => {
    const el = document.querySelector(sel);
    if (!el) return null;
    el.scrollIntoView({ block: 'center' });
    const r = el.getBoundingClientRect();
    for (let fy = 0.5, i = 0; i < 9; i++) {
      for (let j = 0; j < 9; j++) {
        const x = r.left + r.width * (0.1 + 0.1 * j);
        const y = r.top + r.height * (0.1 + 0.1 * i);
        const hit = document.elementFromPoint(x, y);
        if (hit === el || (hit && el.contains(hit))) return { x, y };
      }
    }
    return null;
  }, selector);
}

/** Elements that stick out to the right of the viewport and are not inside a scroller. */
async function overflow(page) {
  return page.evaluate(() => {
    const vw = document.documentElement.clientWidth;
    const sw = document.documentElement.scrollWidth;
    const out = [];
    if (sw > vw + 1) {
      for (const el of document.body.querySelectorAll('*')) {
        const r = el.getBoundingClientRect();
        if (r.right <= vw + 1 || r.width === 0) continue;
        let p = el.parentElement, scrolled = false;
        while (p && p !== document.body) {
          const ox = getComputedStyle(p).overflowX;
          if (ox === 'auto' || ox === 'scroll' || ox === 'hidden') { scrolled = true; break; }
          p = p.parentElement;
        }
        if (scrolled) continue;
        const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
          (el.classList.length ? '.' + [...el.classList].join('.') : '');
        out.push(`${name} right=${Math.round(r.right)}`);
        if (out.length >= 8) break;
      }
    }
    return { vw, sw, out };
  });
}

// ---- the scenario --------------------------------------------------------------------------

const t0 = Date.now();
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
});
console.log(`browser ${browser.version()} · axe-core ${JSON.parse(readFileSync(require.resolve('axe-core/package.json'), 'utf8')).version} · server ${base.origin} · screenshots in ${OUT}`);

const anonCtx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
const staffCtx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
anonCtx.setDefaultTimeout(30000);
staffCtx.setDefaultTimeout(30000);
const anon = watch(await anonCtx.newPage(), 'anon');
const staff = watch(await staffCtx.newPage(), 'staff');

let runId = null;
let runHref = null;
let unitCode = null;
let unitCodeB = null; // a unit of tier B: its badge colours differ from tier A's

try {
  await section('setup: withdraw every published run (JSON API, as the lead)', async () => {
    const api = await pwRequest.newContext({ baseURL: base.origin });
    try {
      const s = await api.post('/api/v1/session', { data: { username: USER, password: PASSWORD } });
      check(s.status() === 200 || s.status() === 201, `POST /api/v1/session is 200/201 (${s.status()})`);
      const csrf = (await s.json()).csrf_token;
      check(typeof csrf === 'string' && csrf.length > 0, 'the session answer carries a csrf_token');
      const runs = itemsOf(await (await api.get('/api/v1/runs?per_page=100')).json());
      check(runs.length >= 2, `the lead sees the demo's runs (${runs.map((r) => `${r.id}:${r.published ? 'pub' : '-'}`).join(' ')})`);
      const noCsrf = await api.post(`/api/v1/runs/${runs[0].id}/unpublish`);
      check(noCsrf.status() === 403, `unpublish without X-CSRF-Token is refused (${noCsrf.status()})`);
      for (const r of runs.filter((x) => x.published)) {
        const u = await api.post(`/api/v1/runs/${r.id}/unpublish`, { headers: { 'X-CSRF-Token': csrf } });
        check(u.ok(), `unpublish run ${r.id}: ${u.status()}`);
      }
      const d = await api.delete('/api/v1/session', { headers: { 'X-CSRF-Token': csrf } });
      check(d.ok(), `DELETE /api/v1/session (${d.status()})`);
    } finally {
      await api.dispose();
    }
  }, true);

  await section('anonymous home: nothing published', async () => {
    const r = await anon.goto(url('/'));
    check(r.status() === 200, `GET / is 200 (${r.status()})`);
    const links = await anon.locator('main a[href^="/runs/"]').count();
    check(links === 0, `no run linked on the home page (${links})`);
    const api = await anon.request.get(url('/api/v1/runs'));
    const n = api.ok() ? itemsOf(await api.json()).length : -1;
    check(api.status() === 200 && n === 0, `GET /api/v1/runs lists no run anonymously (${api.status()}, ${n})`);
    await shot(anon, '01-home-empty');
  }, true);

  await section('lead signs in via /login', async () => {
    await staff.goto(url('/staff/'));
    const login = new URL(staff.url());
    check(login.pathname === '/login', `/staff/ sends an anonymous visitor to /login (${login.pathname}${login.search})`);
    await staff.fill('#username', USER);
    await staff.fill('#password', PASSWORD);
    await Promise.all([staff.waitForURL((u) => u.pathname !== '/login'), staff.click('form[action="/login"] button[type=submit]')]);
    check(new URL(staff.url()).pathname.startsWith('/staff'), `lands on /staff/ (${staff.url()})`);
    const who = await staff.locator('main').innerText();
    check(who.includes(USER), `signed-in bar names ${USER}`);
    await shot(staff, '02-staff');
  }, true);

  await section('publish the newest run on /staff/', async () => {
    const ids = await staff.$$eval('button[data-run]', (bs) => bs.map((b) => Number(b.dataset.run)));
    check(ids.length >= 2, `staff page lists publish buttons for the demo runs (${ids.join(',')})`);
    runId = Math.max(...ids);
    runHref = `/runs/${runId}/`;
    const before = await anon.request.get(url(runHref));
    check(before.status() === 404, `unpublished run ${runId} is 404 for anonymous visitors (${before.status()})`);
    const btn = staff.locator(`form[action="/staff/runs/${runId}/publish"] button[data-run="${runId}"]`);
    check(await btn.count() === 1, `publish button of run ${runId} is in a form posting to /staff/runs/${runId}/publish`);
    await Promise.all([staff.waitForNavigation(), btn.click()]);
    check(new URL(staff.url()).pathname.startsWith('/staff'), `back on the staff page (${staff.url()})`);
    const still = await staff.locator(`form[action="/staff/runs/${runId}/publish"]`).count();
    check(still === 0, `run ${runId} no longer offers "publish"`);
    await shot(staff, '03-staff-published');
    await axe(staff, 'staff', false);
  }, true);

  await section('lead signs out', async () => {
    const out = staff.locator('form[action="/logout"] button');
    check(await out.count() >= 1, 'a sign-out button is on the staff page');
    await Promise.all([staff.waitForNavigation(), out.first().click()]);
    const r = await staff.goto(url('/staff/'));
    const path = new URL(staff.url()).pathname;
    check(path.startsWith('/login') || r.status() === 401 || r.status() === 403,
      `after sign-out /staff/ asks to sign in (${r.status()} ${path})`);
  });

  await section('anonymous home lists the published run', async () => {
    await anon.goto(url('/'));
    const link = anon.locator(`main a[href="${runHref}"]`);
    check(await link.count() === 1, `home links ${runHref}`);
    await shot(anon, '04-home-published');
    await Promise.all([anon.waitForURL((u) => u.pathname.startsWith(runHref)), link.click()]);
    check(new URL(anon.url()).pathname.startsWith(runHref), `link opens the summary (${anon.url()})`);
  });

  await section('summary: the map', async () => {
    const shapes = await anon.locator('.maps path[data-code]').count();
    check(shapes >= 300, `map has >= 300 unit shapes (${shapes})`);
    const visible = await anon.locator('.maps .map-tier path[data-code]').first().isVisible();
    check(visible, 'the tier map is shown first');
    const sw = anon.locator('.map-switch button[data-map=score]');
    await sw.click();
    check(await sw.getAttribute('aria-pressed') === 'true', 'score toggle is pressed after a click');
    check(await anon.locator('.maps.show-score').count() === 1, '.maps switches to the score map');
    check(await anon.locator('.maps .map-score path[data-code]').first().isVisible(), 'score map visible');
    await anon.locator('.map-switch button[data-map=tier]').click();
    await shot(anon, '05-summary');

    // A shape to click: Beijing if present, else the first one; a point that really hits it.
    const codes = await anon.$$eval('.maps .map-tier path[data-code]', (ps) => ps.map((p) => p.dataset.code));
    unitCode = codes.includes('110000') ? '110000' : codes[0];
    const sel = `.maps .map-tier path[data-code="${unitCode}"]`;
    const title = await anon.locator(`${sel} > title`).textContent().catch(() => null);
    check(title && title.trim().length > 0, `shape ${unitCode} has a tooltip title (${title})`);
    const pt = await pointInside(anon, sel);
    check(pt !== null, `a point inside shape ${unitCode} is hit by the pointer`);
    const unitPath = `${runHref}units/${unitCode}.html`;
    let navigated = false;
    if (pt) {
      const before = anon.url();
      await anon.mouse.click(pt.x, pt.y);
      navigated = await anon.waitForURL((u) => u.pathname === unitPath, { timeout: 10000 }).then(() => true, () => false);
      if (!navigated && anon.url() !== before) await anon.goto(before);
    }
    if (STRICT_MAP) check(navigated, `a click on shape ${unitCode} opens ${unitPath}`);
    else if (navigated) check(true, `a click on shape ${unitCode} opens ${unitPath}`);
    else warn(`a click on map shape ${unitCode} does not navigate (shapes are not links); opening ${unitPath} directly`);
    if (!navigated) await anon.goto(url(unitPath));
    const h1 = (await anon.locator('h1').first().textContent()) || '';
    const name = (title || '').split('·')[0].trim();
    check(name && h1.includes(name), `unit page heading names the unit (${h1.trim()})`);
    await shot(anon, '06-unit');
  });

  await section('ranking: sort and filter', async () => {
    const r = await anon.goto(url(`${runHref}ranking.html`));
    check(r.status() === 200, `ranking page is 200 (${r.status()})`);
    const table = anon.locator('#ranking-table');
    const heads = await table.locator('thead th').allTextContents();
    const col = heads.findIndex((h) => /^(总分|total( score)?)$/i.test(h.trim()));
    if (!check(col >= 0, `a total-score column header (${heads.join(' | ')})`)) return;
    const totals = () => anon.$$eval('#ranking-table tbody tr:not([hidden])', (rows, c) =>
      rows.map((tr) => parseFloat(tr.cells[c].dataset.v ?? tr.cells[c].textContent)), col);
    const firstCode = () => anon.$eval('#ranking-table tbody tr a', (a) => a.getAttribute('href'));
    const t0s = await totals();
    const f0 = await firstCode();
    check(t0s.length >= 300, `the table has all units (${t0s.length})`);
    const th = table.locator('thead th').nth(col);
    check(await th.evaluate((e) => e.classList.contains('sortable')), 'total-score header is sortable');
    await th.click();
    const s1 = await th.getAttribute('aria-sort');
    const t1 = await totals();
    const f1 = await firstCode();
    const asc = t1.every((v, i) => i === 0 || v >= t1[i - 1]);
    const desc = t1.every((v, i) => i === 0 || v <= t1[i - 1]);
    check(s1 === 'ascending' || s1 === 'descending', `after a click the header has aria-sort (${s1})`);
    check((s1 === 'ascending' && asc) || (s1 === 'descending' && desc), `rows follow aria-sort=${s1}`);
    check(f1 !== f0, `first row changed (${f0} -> ${f1})`);
    await th.click();
    const s2 = await th.getAttribute('aria-sort');
    check(s2 && s2 !== s1, `a second click reverses aria-sort (${s2})`);
    const others = await table.locator('thead th[aria-sort]').count();
    check(others === 1, `only one header carries aria-sort (${others})`);
    // Keyboard: the headers are focusable and Enter sorts.
    await table.locator('thead th').nth(0).focus();
    await anon.keyboard.press('Enter');
    check(await table.locator('thead th').nth(0).getAttribute('aria-sort') !== null, 'Enter on a focused header sorts');

    const total = Number(await anon.locator('#f-count').textContent());
    check(total === t0s.length, `#f-count shows all rows (${total})`);
    await anon.fill('#f-text', unitCode);
    const c1 = Number(await anon.locator('#f-count').textContent());
    const v1 = (await totals()).length;
    check(c1 >= 1 && c1 === v1 && c1 < total, `text filter ${unitCode}: count ${c1} = visible rows ${v1}`);
    await anon.fill('#f-text', '');
    unitCodeB = await anon.$$eval('#ranking-table tbody tr[data-tier="B"] a', (as) =>
      as.length ? as[0].getAttribute('href').replace(/^.*units\/|\.html$/g, '') : null);
    await anon.selectOption('#f-tier', 'A');
    const c2 = Number(await anon.locator('#f-count').textContent());
    const tiers = await anon.$$eval('#ranking-table tbody tr:not([hidden])', (rs) => [...new Set(rs.map((r) => r.dataset.tier))]);
    check(c2 > 0 && c2 < total && tiers.join() === 'A', `tier filter A: ${c2} rows, tiers ${tiers.join()}`);
    const prov = await anon.$eval('#ranking-table tbody tr:not([hidden])', (r) => r.dataset.prov);
    await anon.selectOption('#f-prov', prov);
    const c3 = Number(await anon.locator('#f-count').textContent());
    const provs = await anon.$$eval('#ranking-table tbody tr:not([hidden])', (rs) => [...new Set(rs.map((r) => r.dataset.prov))]);
    check(c3 >= 1 && c3 <= c2 && provs.join() === prov, `tier A + province ${prov}: ${c3} rows, provinces ${provs.join()}`);
    await anon.selectOption('#f-tier', '');
    await anon.selectOption('#f-prov', '');
    check(Number(await anon.locator('#f-count').textContent()) === total, 'clearing the filters shows all rows');
    await shot(anon, '07-ranking');
  });

  await section('English toggle', async () => {
    await anon.goto(url(runHref));
    const en = anon.locator('.webbar a[lang=en]');
    check(await en.count() === 1, 'an English link in the bar');
    await Promise.all([anon.waitForURL((u) => u.pathname.startsWith('/en/')), en.click()]);
    const lang = await anon.getAttribute('html', 'lang');
    check(lang && lang.startsWith('en'), `English page has html lang=${lang} (${anon.url()})`);
    const h1 = (await anon.locator('h1').first().textContent()) || '';
    check(!/[\u4e00-\u9fff]/.test(h1), `English heading has no Chinese characters (${h1.trim()})`);
    await shot(anon, '08-summary-en');
    await anon.goto(url('/en/'));
    check((await anon.getAttribute('html', 'lang') || '').startsWith('en'), '/en/ home is English');
    check(await anon.locator(`main a[href="/en${runHref}"], main a[href="${runHref}"]`).count() >= 1, '/en/ lists the published run');
  });

  await section('large-text mode', async () => {
    await anon.goto(url(`${runHref}ranking.html`));
    const size = () => anon.evaluate(() => parseFloat(getComputedStyle(document.body).fontSize));
    const s0 = await size();
    const link = anon.locator('.webbar a[href^="/prefs/text/large"]');
    check(await link.count() === 1, 'a large-text link in the bar');
    await Promise.all([anon.waitForNavigation(), link.click()]);
    check(new URL(anon.url()).pathname === `${runHref}ranking.html`, `comes back to the same page (${anon.url()})`);
    const s1 = await size();
    check(s1 > s0, `body text is larger (${s0}px -> ${s1}px)`);
    await shot(anon, '09-ranking-large');
    const back = anon.locator('.webbar a[href^="/prefs/text/normal"]');
    check(await back.count() === 1, 'the bar now offers standard size');
    await Promise.all([anon.waitForNavigation(), back.click()]);
    check(await size() === s0, 'standard size restored');
  });

  await section('axe-core (wcag2a, wcag2aa)', async () => {
    const pages = [
      ['home', '/', true],
      ['summary', runHref, true],
      ['ranking', `${runHref}ranking.html`, true],
      ['unit', `${runHref}units/${unitCode}.html`, true],
      ...(unitCodeB ? [['unit-tier-B', `${runHref}units/${unitCodeB}.html`, true]] : []),
      ['login', '/login', true],
      ['home-en', '/en/', false],
      ['unit-history', `/units/${unitCode}`, false],
      ['compare', `/compare?a=${unitCode}&b=120000`, false],
    ];
    for (const [name, p, gating] of pages) {
      const r = await anon.goto(url(p));
      if (!check(r.status() === 200, `${name} ${p} is 200 (${r.status()})`)) continue;
      await axe(anon, name, gating);
    }
  });

  await section('phone 390x844: no horizontal overflow', async () => {
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 1, locale: 'zh-CN' });
    const ph = watch(await ctx.newPage(), 'phone');
    for (const [name, p] of [['home', '/'], ['ranking', `${runHref}ranking.html`], ['summary', runHref]]) {
      await ph.goto(url(p));
      const o = await overflow(ph);
      check(o.sw <= o.vw + 1, `${name}: page width ${o.sw} <= viewport ${o.vw}${o.out.length ? ' — sticking out: ' + o.out.join(', ') : ''}`);
      await shot(ph, `10-phone-${name}`, name === 'home');
    }
    const wrap = await ph.locator('.tablewrap').first().evaluate((e) => ({ sw: e.scrollWidth, cw: e.clientWidth }));
    check(wrap.sw >= wrap.cw, `ranking table scrolls inside .tablewrap (${wrap.sw} in ${wrap.cw})`);
    await ctx.close();
  });

  await section('console: no errors, no CSP violations', async () => {
    for (const c of consoleErrors) console.log(`  ${c}`);
    check(consoleErrors.length === 0, `no console error, uncaught exception or CSP violation (${consoleErrors.length})`);
  });
} finally {
  await browser.close();
}

const total = Date.now() - t0;
writeFileSync(join(OUT, 'summary.json'), JSON.stringify({ failures, warnings, timings, axe: axeReport, console: consoleErrors, total_ms: total }, null, 2));
console.log('\n== summary');
for (const t of timings) console.log(`  ${String(t.ms).padStart(6)} ms  ${t.step}`);
console.log(`  ${String(total).padStart(6)} ms  total`);
for (const w of warnings) console.log(`  WARN ${w}`);
for (const f of failures) console.log(`  FAIL ${f}`);
console.log(failures.length ? `dashboard e2e: ${failures.length} failure(s); see ${OUT}` : `dashboard e2e: passed (${warnings.length} warning(s)); screenshots in ${OUT}`);
process.exit(failures.length ? 1 : 0);
