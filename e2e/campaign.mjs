// End-to-end browser test of the evaluation-campaign workflow of `govcap serve`: Playwright
// (playwright-core) drives the system Chromium through a campaign from creation to its draft
// run, with the people of the team in separate browser contexts, and runs axe-core on the
// campaign pages.
//
//   BASE_URL=http://127.0.0.1:PORT/ LEAD_PASSWORD=... EV_PASSWORD=... REV_PASSWORD=... \
//     UNIT_PASSWORD=... node e2e/campaign.mjs
//
// Environment:
//   BASE_URL        the server (loopback only), required; a fresh database is enough
//   LEAD_PASSWORD   password of `lead` (role lead)
//   EV_PASSWORD     password of `ev1` and `ev2` (role evaluator)
//   REV_PASSWORD    password of `rev` (role reviewer)
//   UNIT_PASSWORD   password of `bj` (role unit, units 110000)
//   CHROMIUM        the browser (default: /usr/bin/chromium)
//   PYTHON          fills the downloaded XLSX with the standard library (default: python3)
//   E2E_OUT         where screenshots, sheets and summary.json go (default: a new temp dir)
//
// The scenario: the lead creates a campaign and generates the tasks on the pages; ev1 fills
// whole units by keyboard; two sessions of ev1 save the same task (the second gets 409 and an
// alert naming the task); ev1 downloads the task sheet, fills it (Python's zipfile edits the
// sheet XML) and uploads it, then uploads an invalid one; rev confirms one value and rejects
// another; the lead opens appeals, the unit `bj` appeals through the JSON API and the lead
// rejects the appeal; the lead freezes, computes the run and opens its draft report.
//
// Exit status: 0 when every check passed, 1 when one failed (all failures are printed), 2 when
// the test could not run (bad environment).

import { chromium, request as pwRequest } from 'playwright-core';
import { readFileSync, mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

const BASE = process.env.BASE_URL;
const PW = {
  lead: process.env.LEAD_PASSWORD,
  ev1: process.env.EV_PASSWORD,
  ev2: process.env.EV_PASSWORD,
  rev: process.env.REV_PASSWORD,
  bj: process.env.UNIT_PASSWORD,
};
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const PYTHON = process.env.PYTHON || 'python3';
if (!BASE || Object.values(PW).some((p) => !p)) {
  console.error('campaign.mjs: set BASE_URL, LEAD_PASSWORD, EV_PASSWORD, REV_PASSWORD and UNIT_PASSWORD');
  process.exit(2);
}
const base = new URL(BASE);
if (!['127.0.0.1', 'localhost', '[::1]'].includes(base.hostname)) {
  console.error(`campaign.mjs: BASE_URL must be a loopback address, not ${base.hostname}`);
  process.exit(2);
}
const url = (p) => new URL(p, base).href;
const itemsOf = (b) => (Array.isArray(b) ? b : b && Array.isArray(b.items) ? b.items : []);
const OUT = process.env.E2E_OUT || mkdtempSync(join(tmpdir(), 'govcap-campaign-e2e-'));
mkdirSync(OUT, { recursive: true });
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const BJ = '110000';

// ---- bookkeeping (as in dashboard.mjs) -----------------------------------------------------

const failures = [];
const warnings = [];
const timings = [];
const consoleErrors = [];
const axeReport = [];
let step = 'start';

let softFailures = 0;
function check(cond, msg) {
  if (cond) {
    console.log(`  ok   ${msg}`);
  } else {
    console.log(`  FAIL ${msg}`);
    failures.push(`[${step}] ${msg}`);
  }
  return !!cond;
}
/** A failed check that the rest of the scenario does not depend on: it does not abort. */
function checkSoft(cond, msg) {
  if (!cond) softFailures++;
  return check(cond, msg);
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
  const before = failures.length - softFailures;
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
  if (critical && failures.length - softFailures > before) aborted = true;
}

// Statuses the scenario provokes on purpose; Chromium logs each as a console error.
const EXPECTED_STATUS = /the server responded with a status of (403|409|422)/;

function watch(page, label) {
  page.on('console', (m) => {
    if (/\/favicon\.ico$/.test(m.location().url || '')) return;
    if (m.type() === 'error' && EXPECTED_STATUS.test(m.text())) return;
    if (m.type() === 'error' || /Content.Security.Policy/i.test(m.text())) {
      consoleErrors.push(`${label} ${page.url()}: console.${m.type()}: ${m.text()}`);
    }
  });
  page.on('pageerror', (e) => consoleErrors.push(`${label} ${page.url()}: uncaught ${e.message}`));
  page.on('requestfailed', (r) => {
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

// ---- helpers of the scenario ---------------------------------------------------------------

const CTX = { viewport: { width: 1280, height: 900 }, locale: 'zh-CN', acceptDownloads: true };

/** A new browser context signed in as `user` through the /login form. */
async function signIn(browser, user, next = '/staff/') {
  const ctx = await browser.newContext(CTX);
  ctx.setDefaultTimeout(20000);
  const page = watch(await ctx.newPage(), user);
  await page.goto(url(`/login?next=${encodeURIComponent(next)}`));
  await page.fill('#username', user);
  await page.fill('#password', PW[user]);
  await Promise.all([
    page.waitForURL((u) => u.pathname !== '/login'),
    page.click('form[action="/login"] button[type=submit]'),
  ]);
  const at = new URL(page.url());
  check(at.pathname + at.search === next, `${user} signs in and lands on ${next} (${page.url()})`);
  return { ctx, page };
}

/** The session's CSRF token, from a form on the current page (the same token as the API's). */
const csrfOf = (page) => page.locator('input[name=csrf_token]').first().inputValue();

/** POST as the page's session (cookie + X-CSRF-Token). */
async function postJson(page, path, data) {
  const csrf = await csrfOf(page);
  return page.request.post(url(path), { data, headers: { 'X-CSRF-Token': csrf } });
}

async function tasksOf(page, campaign, query) {
  const r = await page.request.get(url(`/api/v1/campaigns/${campaign}/tasks?per_page=500&${query}`));
  if (!r.ok()) throw new Error(`GET tasks?${query}: ${r.status()} ${await r.text()}`);
  return itemsOf(await r.json());
}

/** Clicks and waits for the navigation it causes; returns the main response. */
async function submit(page, locator) {
  const [resp] = await Promise.all([page.waitForNavigation(), locator.click()]);
  return resp;
}

/** A valid value for a task's input from the rule text shown on the page, and a different one. */
function valuesFor(ruleText) {
  if (/比例/.test(ruleText)) return ['0.8', '0.35'];
  if (/计数/.test(ruleText)) return ['2', '1'];
  return ['4', '7'];
}

/**
 * Fills every editable task of an entry page by keyboard: Tab from the value to the evidence
 * field, its 立即存证 button and the note, then on to the next task. Returns {id: value}.
 */
async function fillUnitByKeyboard(page, label) {
  const tasks = await page.$$eval('form fieldset[id^=t]', (fs) =>
    fs.map((f) => {
      const id = f.id.slice(1);
      const v = f.querySelector(`#v${id}`);
      return { id, tag: v.tagName.toLowerCase(), disabled: v.disabled, rule: f.querySelector('.sub').textContent };
    }),
  );
  const filled = {};
  let tabOrderOk = true;
  const active = () => page.evaluate(() => document.activeElement && (document.activeElement.id || document.activeElement.textContent.trim()));
  await page.locator(`#v${tasks.find((t) => !t.disabled).id}`).focus();
  for (const t of tasks) {
    if (t.disabled) continue;
    let where = await active();
    if (where !== `v${t.id}`) {
      tabOrderOk = false;
      await page.locator(`#v${t.id}`).focus();
    }
    if (t.tag === 'select') {
      await page.keyboard.press('ArrowDown'); // — → 是 / the first level
    } else {
      await page.keyboard.type(valuesFor(t.rule)[0]);
    }
    filled[t.id] = await page.locator(`#v${t.id}`).inputValue();
    await page.keyboard.press('Tab');
    where = await active();
    if (where !== `e${t.id}`) {
      tabOrderOk = false;
      await page.locator(`#e${t.id}`).focus();
    }
    await page.keyboard.type(`http://127.0.0.1/evidence/${t.id}`);
    await page.keyboard.press('Tab'); // 立即存证
    await page.keyboard.press('Tab'); // note
    where = await active();
    if (where !== `n${t.id}`) {
      tabOrderOk = false;
      await page.locator(`#n${t.id}`).focus();
    }
    await page.keyboard.type(`e2e ${label}`);
    await page.keyboard.press('Tab'); // confidence
    where = await active();
    if (where !== `c${t.id}`) {
      tabOrderOk = false;
      await page.locator(`#c${t.id}`).focus();
    }
    await page.keyboard.press('ArrowDown'); // — → 高
    await page.keyboard.press('Tab'); // the evidence file, last: most tasks need none
    where = await active();
    if (where !== `f${t.id}`) {
      tabOrderOk = false;
      await page.locator(`#f${t.id}`).focus();
    }
    await page.keyboard.press('Tab');
  }
  checkSoft(tabOrderOk, `${label}: Tab walks value → evidence → 立即存证 → note → confidence → evidence file → next task`);
  const empty = Object.entries(filled).filter(([, v]) => !v);
  check(empty.length === 0, `${label}: every editable task got a value by keyboard (${Object.keys(filled).length} tasks${empty.length ? `; empty: ${empty.map(([k]) => k)}` : ''})`);
  return filled;
}

/**
 * Saves the entry form with Enter typed in the last note field. Implicit submission activates
 * the form's default button (the first submit button); it must be the save button, not a task's
 * 立即存证. A capture request is answered 204 by the test (the page stays), then the save button
 * is pressed with the keyboard instead.
 */
async function saveByEnter(page, label) {
  let captured = null;
  await page.route('**/staff/campaigns/*/capture/**', (route) => {
    captured = route.request().url();
    return route.fulfill({ status: 204, body: '' });
  });
  const first = await page.locator('form[action*="/entry?unit="] button[type=submit]').first().textContent();
  const notes = page.locator('form input[id^=n]:not([disabled])');
  await notes.last().focus();
  const req = page.waitForRequest((r) => r.method() === 'POST', { timeout: 10000 });
  await page.keyboard.press('Enter');
  const r = await req;
  const viaCapture = /\/capture\//.test(r.url());
  checkSoft(!viaCapture, `${label}: Enter in a field saves the unit (the form's default button is "${first.trim()}"${viaCapture ? `; Enter posted to ${new URL(r.url()).pathname} instead` : ''})`);
  if (viaCapture) {
    await page.waitForTimeout(200);
    await page.unroute('**/staff/campaigns/*/capture/**');
    await page.getByRole('button', { name: '保存本单位（Enter）' }).focus();
    await Promise.all([page.waitForURL(/saved=/), page.keyboard.press('Enter')]);
  } else {
    await page.waitForURL(/saved=/);
    await page.unroute('**/staff/campaigns/*/capture/**');
  }
  return captured;
}

/** Fills a downloaded task sheet with Python's zipfile: n empty value cells of todo rows. */
const FILL_PY = String.raw`
import json, re, sys, zipfile
from xml.sax.saxutils import escape
src, dst, mode, n, exclude = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), set(json.loads(sys.argv[5]))
z = zipfile.ZipFile(src)
path = 'xl/worksheets/sheet1.xml'
assert re.search(r'<sheet name="任务" sheetId="1"', z.read('xl/workbook.xml').decode()), 'the first sheet is not 任务'
def unxml(s):
    s = re.sub(r'<[^>]+>', '', s)
    return s.replace('&lt;', '<').replace('&gt;', '>').replace('&quot;', '"').replace('&apos;', "'").replace('&amp;', '&')
ss = [unxml(m) for m in re.findall(r'<si>(.*?)</si>', z.read('xl/sharedStrings.xml').decode(), re.S)]
xml = z.read(path).decode()
rows = {int(m.group(1)): m.group(0) for m in re.finditer(r'<row r="(\d+)"[^>]*>.*?</row>', xml, re.S)}
def cell(r, col):
    m = re.search(r'<c r="%s%d"([^>]*)>(?:<v>([^<]*)</v>)?' % (col, r), rows[r])
    if not m: return None
    return ss[int(m.group(2))] if 't="s"' in m.group(1) else m.group(2)
head = {c: cell(1, c) for c in 'ACGHI'}
assert head == {'A': '任务编号 task', 'C': '单位代码 unit', 'G': '规则 rule', 'H': '状态 status', 'I': '数值 value'}, head
good = {'binary': '是', 'ratio': '0.75', 'count': '2', 'continuous': '3'}
picked = []
for r in sorted(rows):
    if r == 1 or len(picked) >= n: continue
    rx = rows[r]
    if re.search(r'<c r="I%d"' % r, rx): continue
    task, rule, status, unit = cell(r, 'A'), cell(r, 'G'), cell(r, 'H'), cell(r, 'C')
    if status != 'todo' or rule not in good or int(task) in exclude: continue
    value = good[rule] if mode == 'valid' else 'maybe'
    new = re.sub(r'<c r="H%d"[^>]*>.*?</c>' % r,
                 lambda m: m.group(0) + '<c r="I%d" t="inlineStr"><is><t>%s</t></is></c>' % (r, escape(value)), rx, count=1)
    assert new != rx, rx
    xml = xml.replace(rx, new, 1)
    picked.append({'row': r, 'task': int(task), 'unit': unit, 'rule': rule, 'value': value})
assert len(picked) == n, picked
with zipfile.ZipFile(dst, 'w', zipfile.ZIP_DEFLATED) as out:
    for info in z.infolist():
        out.writestr(info, xml.encode() if info.filename == path else z.read(info.filename))
print(json.dumps(picked))
`;

function fillSheet(src, dst, mode, n, exclude) {
  const r = spawnSync(PYTHON, ['-', src, dst, mode, String(n), JSON.stringify(exclude)], {
    input: FILL_PY,
    encoding: 'utf8',
    timeout: 20000,
  });
  if (r.status !== 0) throw new Error(`${PYTHON} could not fill the sheet: ${r.error || ''} ${r.stderr}`);
  return JSON.parse(r.stdout);
}

// ---- the scenario --------------------------------------------------------------------------

const t0 = Date.now();
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
});
console.log(`browser ${browser.version()} · axe-core ${JSON.parse(readFileSync(require.resolve('axe-core/package.json'), 'utf8')).version} · server ${base.origin} · output in ${OUT}`);

let lead, ev1, ev1b, rev; // {ctx, page}
let cid = null; // the campaign
let unitA = null; // a whole unit of ev1's (not 110000)
const entered = {}; // task id -> value, entered by ev1 on the pages
let bjTask = null; // a first coding of 110000 that ev1 enters, rev confirms and bj appeals
let conflictTask = null;
let conflictValue = null;
let sheetFilled = [];
let rejected = null;
let runId = null;
let pairsCoded = 0;

try {
  await section('lead creates a campaign on /staff/campaigns', async () => {
    lead = await signIn(browser, 'lead', '/staff/campaigns');
    const p = lead.page;
    check(await p.locator('h1').first().textContent().then((t) => t.includes('评估任务')), 'the campaign list has its heading');
    await axe(p, 'campaign list');
    await shot(p, '01-campaigns');
    check(await p.inputValue('#share') === '0.1', `double-coding share defaults to 0.1 (${await p.inputValue('#share')})`);
    await p.fill('#name', 'E2E 评估 2026');
    await p.fill('#year', '2026');
    await p.fill('#due', '2099-12-31');
    await submit(p, p.locator('form[action="/staff/campaigns"] button[type=submit]'));
    const m = new URL(p.url()).pathname.match(/^\/staff\/campaigns\/(\d+)$/);
    check(m, `lands on /staff/campaigns/{id} (${p.url()})`);
    cid = Number(m[1]);
    check((await p.locator('main').innerText()).includes('E2E 评估 2026'), 'the dashboard names the campaign');
  }, true);

  await section('lead generates and assigns the tasks', async () => {
    const p = lead.page;
    await p.fill('#evs', 'ev1, ev2');
    await p.selectOption('#by', 'province');
    const r = await submit(p, p.getByRole('button', { name: '生成并分配任务' }));
    check(r.status() === 200 && new URL(p.url()).pathname === `/staff/campaigns/${cid}`, `back on the dashboard (${r.status()} ${p.url()})`);
    const h2 = await p.locator('main h2').allTextContents();
    for (const h of ['按评估员', '按指标', '按省份', '评估员一致性']) check(h2.some((x) => x.includes(h)), `dashboard has the table ${h}`);
    const byEv = await p.locator('h2:has-text("按评估员") + .tablewrap tbody th').allTextContents();
    check(byEv.includes('ev1') && byEv.includes('ev2'), `progress by evaluator lists ev1 and ev2 (${byEv.join(', ')})`);
    const agree = p.locator('h2:has-text("评估员一致性") ~ .tablewrap').first();
    const agreeHead = await agree.locator('thead th').allTextContents();
    check(agreeHead.includes('统计量') && agreeHead.includes('配对数'), `the agreement table is there (${agreeHead.join(' | ')})`);
    const agreeRows = await agree.locator('tbody tr:not(:has(td[colspan]))').count();
    check(agreeRows === 0, `no agreement row before any pair is coded (${agreeRows})`);
    check((await agree.locator('tbody td[colspan]').count()) === 1, 'the empty agreement table says why');
    const notice = await p.locator('main p.notice').first().textContent();
    check(/任务 \d+ 项/.test(notice), `the dashboard counts the tasks (${notice.trim()})`);
    await axe(p, 'campaign dashboard');
    await shot(p, '02-dashboard', true);

    // 110000's first codings are ev2's under the province split: the lead gives one of them,
    // not in the double-coded sample, to ev1, so that ev1 can enter it, rev confirm it and bj
    // appeal it.
    const bj = await tasksOf(p, cid, `unit=${BJ}`);
    const doubled = new Set(bj.filter((t) => t.coder === 2).map((t) => t.indicator));
    const pick = bj.find((t) => t.coder === 1 && !doubled.has(t.indicator) && t.assignee !== 'ev1') ||
      bj.find((t) => t.coder === 1 && t.assignee === 'ev1');
    check(pick, `a first coding of ${BJ} outside the double-coded sample (${bj.length} tasks of ${BJ})`);
    bjTask = pick.id;
    if (pick.assignee !== 'ev1') {
      const a = await postJson(p, `/api/v1/tasks/${bjTask}/assign`, { evaluator: 'ev1' });
      check(a.ok(), `POST /api/v1/tasks/${bjTask}/assign {"evaluator":"ev1"} (${a.status()})`);
    }
  }, true);

  await section('ev1 fills 110000 and a whole unit by keyboard', async () => {
    ev1 = await signIn(browser, 'ev1', `/staff/campaigns/${cid}/entry`);
    const p = ev1.page;
    const codes = await p.$$eval('main table a[href*="entry?unit="]', (as) => as.map((a) => new URL(a.href).searchParams.get('unit')));
    check(codes.length > 100, `the entry list links ev1's units (${codes.length})`);
    check(codes.includes(BJ), `ev1 has ${BJ} (after the reassignment)`);
    check(await p.locator('a[href$="/sheet.xlsx"]').count() === 1 && await p.locator('input#sheet[type=file]').count() === 1,
      'the entry list offers the XLSX download and the upload form');
    await axe(p, 'entry list');
    await shot(p, '03-entry-list');
    unitA = codes.find((c) => c !== BJ);
    for (const unit of [BJ, unitA]) {
      await submit(p, p.locator(`main table a[href$="entry?unit=${unit}"]`));
      check(new URL(p.url()).searchParams.get('unit') === unit, `the link opens the entry page of ${unit}`);
      const auto = await p.evaluate(() => document.activeElement && document.activeElement.id);
      if (!/^v\d+$/.test(auto || '')) warn(`${unit}: no field has focus when the page opens (autofocus is only set when the first task is a number)`);
      if (unit === unitA) {
        await axe(p, 'entry unit page');
        await shot(p, '04-entry-unit', true);
      }
      const filled = await fillUnitByKeyboard(p, unit);
      await saveByEnter(p, unit);
      const n = Object.keys(filled).length;
      const saved = await p.locator('main .notice[role=status]').textContent().catch(() => '');
      check(saved.includes(`已保存 ${n} 项`), `${unit}: the page says 已保存 ${n} 项 (${saved.trim()})`);
      Object.assign(entered, filled);
      await p.goto(url(`/staff/campaigns/${cid}/entry`));
    }
    check(bjTask in entered, `ev1 entered task ${bjTask} of ${BJ}`);
    const api = await tasksOf(lead.page, cid, `unit=${unitA}&assignee=ev1`);
    const wrong = api.filter((t) => entered[t.id] !== undefined && (t.value !== entered[t.id] || t.status !== 'entered' || t.entered_by !== 'ev1'));
    check(wrong.length === 0, `the API has ev1's values of ${unitA} as entered (${api.length} tasks${wrong.length ? `; differ: ${wrong.map((t) => `${t.id}=${t.value}/${t.status}`)}` : ''})`);

    // ev2 codes the first codings paired with ev1's second codings of 110000 the same way
    // (JSON API), so that the agreement table gets rows.
    const bj = await tasksOf(lead.page, cid, `unit=${BJ}`);
    const seconds = bj.filter((t) => t.coder === 2 && t.assignee === 'ev1' && t.value !== null);
    const api2 = await pwRequest.newContext({ baseURL: base.origin });
    try {
      const s = await api2.post('/api/v1/session', { data: { username: 'ev2', password: PW.ev2 } });
      const csrf = (await s.json()).csrf_token;
      for (const t of seconds) {
        const first = bj.find((x) => x.coder === 1 && x.indicator === t.indicator);
        const r = await api2.put(`/api/v1/tasks/${first.id}/value`, {
          data: { value: t.value, version: first.version },
          headers: { 'X-CSRF-Token': csrf },
        });
        check(r.ok(), `ev2 PUT /api/v1/tasks/${first.id}/value ${t.value} (pair of ${t.id}): ${r.status()}`);
      }
    } finally {
      await api2.dispose();
    }
    pairsCoded = seconds.length;
  }, true);

  await section('conflict: two sessions of ev1 save the same task', async () => {
    ev1b = await signIn(browser, 'ev1', `/staff/campaigns/${cid}/entry?unit=${unitA}`);
    const a = ev1.page;
    const b = ev1b.page;
    await a.goto(url(`/staff/campaigns/${cid}/entry?unit=${unitA}`));
    const t = await a.$$eval('form fieldset[id^=t]', (fs) => fs
      .map((f) => ({ id: f.id.slice(1), rule: f.querySelector('.sub').textContent, input: f.querySelector('input[id^=v]:not([disabled])') }))
      .filter((x) => x.input)
      .map(({ id, rule }) => ({ id, rule })));
    check(t.length >= 1, `${unitA} has a numeric task to change (${t.length})`);
    conflictTask = Number(t[0].id);
    const [, other] = valuesFor(t[0].rule);
    const vb = other === '1' ? '3' : String(Number(other) / 2);
    conflictValue = other;
    await a.fill(`#v${conflictTask}`, conflictValue);
    await b.fill(`#v${conflictTask}`, vb);
    await submit(a, a.getByRole('button', { name: '保存本单位（Enter）' }));
    const sa = await a.locator('main .notice[role=status]').textContent().catch(() => '');
    check(sa.includes('已保存 1 项'), `the first session saves (${sa.trim()})`);
    const rb = await submit(b, b.getByRole('button', { name: '保存本单位（Enter）' }));
    check(rb.status() === 409, `the second session gets 409 (${rb.status()})`);
    const alert = b.locator('main .warn[role=alert]');
    const text = (await alert.allTextContents()).join(' | ');
    check(text.includes(`任务 ${conflictTask}`), `the alert names 任务 ${conflictTask} (${text})`);
    check(text.includes('last changed by ev1'), 'the alert says the task was last changed by ev1');
    const href = await alert.locator('a').first().getAttribute('href').catch(() => null);
    check(href === `#t${conflictTask}`, `the alert links the task's fieldset (${href})`);
    await shot(b, '05-conflict', true);
    await axe(b, 'entry unit page (conflict)', false);
    const api = (await tasksOf(lead.page, cid, `unit=${unitA}`)).find((x) => x.id === conflictTask);
    check(api && api.value === conflictValue, `the API shows the first session's value ${conflictValue} (${api && api.value}, version ${api && api.version})`);
    entered[conflictTask] = conflictValue;
    await ev1b.ctx.close();
  });

  await section('XLSX round trip in the browser', async () => {
    const p = ev1.page;
    await p.goto(url(`/staff/campaigns/${cid}/entry`));
    const [dl] = await Promise.all([p.waitForEvent('download'), p.getByRole('link', { name: '下载我的任务表格（XLSX）' }).click()]);
    const got = join(OUT, 'ev1-sheet.xlsx');
    await dl.saveAs(got);
    check(/\.xlsx$/.test(dl.suggestedFilename()), `the sheet downloads as ${dl.suggestedFilename()}`);
    const exclude = Object.keys(entered).map(Number);
    const good = join(OUT, 'ev1-filled.xlsx');
    sheetFilled = fillSheet(got, good, 'valid', 2, exclude);
    console.log(`  filled ${sheetFilled.map((r) => `row ${r.row} task ${r.task} (${r.rule}) = ${r.value}`).join('; ')}`);
    await p.setInputFiles('#sheet', good);
    const r = await submit(p, p.getByRole('button', { name: '上传', exact: true }));
    check(r.status() === 200 && /saved=2/.test(p.url()), `the upload goes back to the entry list (${r.status()} ${p.url()})`);
    const saved = await p.locator('main .notice[role=status]').textContent().catch(() => '');
    check(saved.includes('已保存 2 项'), `the list says 已保存 2 项 (${saved.trim()})`);
    for (const f of sheetFilled) {
      const t = (await tasksOf(lead.page, cid, `unit=${f.unit}`)).find((x) => x.id === f.task);
      const want = f.rule === 'binary' ? ['是', '1'] : [f.value];
      check(t && want.includes(t.value) && t.status === 'entered', `task ${f.task} has ${f.value} from the sheet (${t && t.value}, ${t && t.status})`);
    }

    const bad = join(OUT, 'ev1-invalid.xlsx');
    const [inv] = fillSheet(got, bad, 'invalid', 1, [...exclude, ...sheetFilled.map((x) => x.task)]);
    await p.setInputFiles('#sheet', bad);
    const r2 = await submit(p, p.getByRole('button', { name: '上传', exact: true }));
    check(r2.status() === 422, `an invalid value is refused with 422 (${r2.status()})`);
    const body = await p.locator('main').innerText();
    check(/nothing was saved/.test(body), `the error page says nothing was saved (${body.split('\n').slice(0, 3).join(' / ')})`);
    check(body.includes(`row ${inv.row}, column "数值 value"`), `the error page locates the value: row ${inv.row}, column "数值 value"`);
    await shot(p, '06-sheet-invalid', true);
    const t = (await tasksOf(lead.page, cid, `unit=${inv.unit}`)).find((x) => x.id === inv.task);
    check(t && t.value === null && t.status === 'todo', `task ${inv.task} is unchanged (${t && t.value}, ${t && t.status})`);
  });

  await section('rev confirms one value and rejects another; ev1 cannot review', async () => {
    rev = await signIn(browser, 'rev', `/staff/campaigns/${cid}/review`);
    const p = rev.page;
    const rows = await p.locator('main table tbody tr').count();
    check(rows >= Object.keys(entered).length / 2, `the review queue lists entered values (${rows} rows)`);
    await axe(p, 'review queue');
    await shot(p, '07-review', true);
    const confirm = p.locator(`form[action="/staff/campaigns/${cid}/review/${bjTask}"]:has(input[name=decision][value=confirm]) button`);
    check(await confirm.count() === 1, `task ${bjTask} of ${BJ} has a 确认 button`);
    await submit(p, confirm);
    check(new URL(p.url()).pathname === `/staff/campaigns/${cid}/review`, 'back on the queue after 确认');
    check(await p.locator(`form[action="/staff/campaigns/${cid}/review/${bjTask}"]`).count() === 0, `task ${bjTask} left the queue`);
    // Reject one of unit A's first codings (not the conflict task).
    const ids = await p.$$eval('main input[id^=r]', (is) => is.map((i) => Number(i.id.slice(1))));
    rejected = ids.find((x) => x !== conflictTask && entered[x] !== undefined);
    check(rejected, `a value of ev1's to reject is in the queue (${ids.length} rejectable)`);
    await p.locator(`#r${rejected}`).fill('证据网址打不开，请补充');
    await submit(p, p.locator(`form:has(#r${rejected}) button`));
    check(await p.locator(`#r${rejected}`).count() === 0, `task ${rejected} left the queue after 退回`);

    const c = (await tasksOf(lead.page, cid, `unit=${BJ}`)).find((t) => t.id === bjTask);
    check(c && c.status === 'confirmed' && c.confirmed_by === 'rev', `task ${bjTask} is confirmed by rev (${c && c.status}, ${c && c.confirmed_by})`);
    const j = (await tasksOf(lead.page, cid, 'assignee=ev1')).find((x) => x.id === rejected);
    check(j && j.status === 'returned', `task ${rejected} is returned (${j && j.status})`);

    // ev1 sees the reviewer's reason on its entry page.
    const e = ev1.page;
    await e.goto(url(`/staff/campaigns/${cid}/entry?unit=${unitA}`));
    const sub = await e.locator(`#t${rejected} .sub`).textContent().catch(() => '');
    check(sub.includes('复核意见：证据网址打不开'), `ev1 sees the reason on task ${rejected} (${sub.trim()})`);
    // ev1 has no review page and cannot confirm its own value through the API.
    const rr = await e.goto(url(`/staff/campaigns/${cid}/review`));
    check(rr.status() === 403, `ev1 GET /staff/campaigns/${cid}/review is 403 (${rr.status()})`);
    await e.goto(url(`/staff/campaigns/${cid}/entry`));
    const own = Number(Object.keys(entered).find((k) => Number(k) !== bjTask && Number(k) !== rejected));
    const ra = await postJson(e, `/api/v1/tasks/${own}/review`, { decision: 'confirm', note: '' });
    check(ra.status() === 403, `ev1 confirming its own value ${own} through the API is 403 (${ra.status()})`);
    const rp = await e.request.post(url(`/staff/campaigns/${cid}/review/${own}`), {
      form: { csrf_token: await csrfOf(e), decision: 'confirm' },
      maxRedirects: 0,
    });
    check(rp.status() === 403, `ev1 posting 确认 for its own value ${own} is 403 (${rp.status()})`);
  });

  await section('appeals: lead opens them, bj sees its provisional scores and appeals on its page, lead rejects it on the desk', async () => {
    const p = lead.page;
    await p.goto(url(`/staff/campaigns/${cid}`));
    await p.fill('#dl', '2099-01-01T00:00:00Z');
    const r = await submit(p, p.getByRole('button', { name: '开放初步结果与申诉' }));
    check(r.status() === 200, `open appeals (${r.status()})`);
    const agreeRows = await p.locator('h2:has-text("评估员一致性") ~ .tablewrap').first().locator('tbody tr').count();
    check(pairsCoded === 0 || agreeRows >= 1, `the agreement table has a row once ${pairsCoded} pair(s) are coded (${agreeRows})`);
    await shot(p, '08-dashboard-appeals', true);
    const phase = await p.locator('main p.notice').first().textContent();
    check(phase.includes('申诉复核期') && phase.includes('2099-01-01'), `the dashboard shows the appeal phase (${phase.trim()})`);

    // The API keeps its rules: CSRF, another unit's task, visibility.
    const api = await pwRequest.newContext({ baseURL: base.origin });
    try {
      const s = await api.post('/api/v1/session', { data: { username: 'bj', password: PW.bj } });
      check(s.ok(), `bj POST /api/v1/session (${s.status()})`);
      const csrf = (await s.json()).csrf_token;
      const mine = itemsOf(await (await api.get(`/api/v1/campaigns/${cid}/tasks?unit=${BJ}&per_page=100`)).json());
      check(mine.length > 0 && mine.every((t) => t.unit === BJ && t.coder === 1), `bj sees ${BJ}'s first codings only (${mine.length})`);
      const others = itemsOf(await (await api.get(`/api/v1/campaigns/${cid}/tasks?unit=${unitA}`)).json());
      check(others.length === 0, `bj sees no task of ${unitA} (${others.length})`);
      const prov = await (await api.get(`/api/v1/campaigns/${cid}/provisional`)).json();
      check(prov.units.length === 1 && prov.units[0].code === BJ, `bj's provisional results hold ${BJ} only (${prov.units.map((u) => u.code)})`);
      const body = { task: bjTask, reason: 'x', evidence_url: 'http://127.0.0.1/x' };
      const no = await api.post('/api/v1/appeals', { data: body });
      check(no.status() === 403, `an appeal without X-CSRF-Token is refused (${no.status()})`);
      const foreign = await api.post('/api/v1/appeals', { data: { ...body, task: conflictTask }, headers: { 'X-CSRF-Token': csrf } });
      check(foreign.status() === 404, `an appeal of another unit's task is 404 (${foreign.status()})`);
    } finally {
      await api.dispose();
    }

    // bj in its own browser: the nav leads to the campaign, the page shows its scores and values.
    const bj = await signIn(browser, 'bj', '/staff/');
    try {
      const q = bj.page;
      await submit(q, q.locator('nav[aria-label=工作台]').getByRole('link', { name: '初步结果与申诉' }));
      await submit(q, q.locator(`main a[href="/staff/campaigns/${cid}/provisional"]`));
      const text = await q.locator('main').innerText();
      check(text.includes('初步得分') && text.includes('北京市'), 'bj sees its provisional score');
      check(!text.includes(unitA), `bj's page shows nothing of ${unitA}`);
      await axe(q, 'provisional results (unit)');
      await shot(q, '08b-unit-provisional', true);
      const row = q.locator(`tr#t${bjTask}`);
      await row.locator('summary').click();
      await row.locator('textarea[name=reason]').fill('门户网站已提供该服务，见反证');
      await row.locator('input[type=file]').setInputFiles({ name: '反证.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n') });
      const sent = await submit(q, row.getByRole('button', { name: '提交申诉' }));
      check(sent.status() === 200 && (await q.locator('[role=status]').first().textContent()).includes('申诉已提交'), `bj's appeal is filed (${sent.status()})`);
      check((await q.locator(`tr#t${bjTask}`).innerText()).includes('已申诉'), `task ${bjTask} shows 已申诉`);
    } finally {
      await bj.ctx.close();
    }
    const after = (await tasksOf(p, cid, `unit=${BJ}`)).find((x) => x.id === bjTask);
    check(after.status === 'appealed', `task ${bjTask} is appealed (${after.status})`);

    // The lead decides on the desk.
    await p.goto(url(`/staff/campaigns/${cid}/provisional`));
    await axe(p, 'provisional desk (lead)');
    await shot(p, '08c-lead-desk', true);
    const form = p.locator(`form[action^="/staff/campaigns/${cid}/decision/"]`).first();
    check(await form.count() === 1, 'the desk has a decision form');
    const counter = await p.locator('main a[href^="/evidence/files/"]').count();
    check(counter >= 1, `the desk links the counter-evidence file (${counter})`);
    await form.locator('select[name=decision]').selectOption('reject');
    await form.locator('input[name=note]').fill('证据不支持更改');
    const d = await submit(p, form.getByRole('button', { name: '记录裁决' }));
    check(d.status() === 200 && (await p.locator('main').innerText()).includes('驳回：证据不支持更改'), `lead rejects the appeal on the desk (${d.status()})`);
    const fin = (await tasksOf(p, cid, `unit=${BJ}`)).find((x) => x.id === bjTask);
    check(fin.status === 'confirmed' && fin.value === entered[bjTask], `task ${bjTask} is confirmed again with its value (${fin.status}, ${fin.value})`);
    await p.goto(url(`/staff/campaigns/${cid}/tasks?unit=${BJ}`));
    check((await p.locator('form[action*="/assignment/"]').count()) > 0, 'the task list offers reassignment');
    await axe(p, 'task list');
  });

  await section('lead freezes, computes the run and opens the draft report', async () => {
    const p = lead.page;
    await p.goto(url(`/staff/campaigns/${cid}`));
    let r = await submit(p, p.getByRole('button', { name: '冻结' }));
    check(r.status() === 200 && (await p.locator('main p.notice').first().textContent()).includes('已冻结'), `frozen (${r.status()})`);
    r = await submit(p, p.getByRole('button', { name: '计算评估结果' }));
    check(r.status() === 200, `compute (${r.status()} ${r.status() === 200 ? '' : (await p.locator('main').innerText()).slice(0, 300)})`);
    const link = p.locator('main a[href^="/runs/"]');
    const text = (await link.first().textContent().catch(() => '')) || '';
    const m = text.match(/运行 (\d+)/);
    check(m, `the dashboard links the run (${text})`);
    if (!m) return;
    runId = Number(m[1]);
    check((await p.locator('main p.notice').first().textContent()).includes('已出结果'), 'the campaign is closed');
    await shot(p, '09-dashboard-closed', true);
    await submit(p, link.first());
    check(new URL(p.url()).pathname === `/runs/${runId}/`, `the link opens /runs/${runId}/ (${p.url()})`);
    const body = await p.locator('body').innerText();
    check(body.includes('草稿'), 'the draft report shows the 草稿 banner');
    await shot(p, '10-draft-run');
    const anon = await pwRequest.newContext({ baseURL: base.origin });
    const pub = await anon.get(`/runs/${runId}/`);
    check(pub.status() === 404, `the draft is 404 for anonymous visitors (${pub.status()})`);
    await anon.dispose();
  });

  await section('console: no errors, no CSP violations', async () => {
    for (const c of consoleErrors) console.log(`  ${c}`);
    check(consoleErrors.length === 0, `no console error, uncaught exception or CSP violation (${consoleErrors.length})`);
  });
} finally {
  await browser.close();
}

const total = Date.now() - t0;
writeFileSync(join(OUT, 'summary.json'), JSON.stringify({ campaign: cid, run: runId, failures, warnings, timings, axe: axeReport, console: consoleErrors, total_ms: total }, null, 2));
console.log('\n== summary');
for (const t of timings) console.log(`  ${String(t.ms).padStart(6)} ms  ${t.step}`);
console.log(`  ${String(total).padStart(6)} ms  total`);
console.log(`  axe: ${axeReport.length} violation(s): ${axeReport.map((v) => `${v.id}/${v.impact} on ${v.page}`).join('; ') || 'none'}`);
for (const w of warnings) console.log(`  WARN ${w}`);
for (const f of failures) console.log(`  FAIL ${f}`);
console.log(failures.length ? `campaign e2e: ${failures.length} failure(s); see ${OUT}` : `campaign e2e: passed (${warnings.length} warning(s)); output in ${OUT}`);
process.exit(failures.length ? 1 : 0);
