// ui_e2e.cjs — the browser half of tests/test_e2e_ui.c: drives the web UI
// (/ui/ of a running mailpulsed the C suite started and fed) in Debian's
// headless Chromium through playwright-core (never a browser download).
//
//   node ui_e2e.cjs   with MP_UI_BASE (http://127.0.0.1:PORT), MP_UI_OUT (a
//                     directory for the screenshots), MP_UI_ADMIN,
//                     MP_UI_ACME (tokens), MP_UI_MAILBOX (the key that
//                     crossed), MP_UI_SUM_1H, MP_UI_SUM_35D ("sent,bounce_hard"
//                     of that key over the two ranges), CHROMIUM (default
//                     /usr/bin/chromium); NODE_PATH holds playwright-core.
//
// It checks, in order: the page without a token and with a wrong one; the
// overview with acme's token (the firing alert, the mailbox scope's rows);
// the key's 1h and 35d charts (their points hold exactly the counts sent,
// the warning and critical lines are drawn, critical above warning); a
// silence made from the alert's button (listed, and the alert marked
// silenced, and the chart then showing the alert's past and the silence as
// a band); the authentication panel (the posted DMARC report's row, its
// rates, the critical mark, the per-day chart) and the blocklist panel (one
// address listed, one clean); acme's token kept out
// of beta; the admin token's tenant list (GET /v1/tenants: both tenants,
// acme's critical alert first, beta's figures, the filter, a link).
// It prints one JSON line of figures on stdout ({"ok":true,...}) and exits
// 0, or prints the failed check on stderr and exits 1.
'use strict';
const { chromium } = require('playwright-core');
const path = require('node:path');

const env = (k, d) => {
  const v = process.env[k] || d;
  if (v === undefined) throw new Error('ui_e2e: ' + k + ' is not set');
  return v;
};
const base = env('MP_UI_BASE');
const out = env('MP_UI_OUT');
const mailbox = env('MP_UI_MAILBOX');
const sum1h = env('MP_UI_SUM_1H').split(',').map(Number);
const sum35 = env('MP_UI_SUM_35D').split(',').map(Number);
const T = 15000; // a wait for one thing on the page

function check(cond, what) {
  if (!cond) throw new Error('check failed: ' + what);
}

async function login(page, token) {
  await page.goto(base + '/ui/');
  await page.waitForSelector('#login');
  await page.fill('#token', token);
  await page.click('#login-go');
}

async function chart(page, range, want, figures) {
  const t0 = Date.now();
  await page.evaluate((h) => { location.hash = h; }, `#/t/acme/k/mailbox/${encodeURIComponent(mailbox)}/${range}`);
  const sel = `.chart[data-rule="bounce_rate"][data-step="${range === '1h' ? '5m' : '1d'}"][data-threshold-drawn="1"]`;
  await page.waitForSelector(sel, { timeout: T });
  await page.waitForFunction(() => document.body.dataset.chartMs !== undefined && document.body.dataset.chartMs !== '', null, { timeout: T });
  figures[`chart_${range}_wall_ms`] = Date.now() - t0;
  figures[`chart_${range}_ms`] = Number(await page.evaluate(() => document.body.dataset.chartMs));
  const d = await page.$eval(sel, (e) => ({ ...e.dataset }));
  figures[`chart_${range}_points`] = Number(d.points);
  check(Number(d.sumDen) === want[0] && Number(d.sumNum) === want[1],
    `${range} chart holds sent=${d.sumDen} bounce_hard=${d.sumNum}, sent were ${want}`);
  check(Number(d.warning) === 0.02 && Number(d.critical) === 0.04, `${range} thresholds ${d.warning}/${d.critical}`);
  const wy = Number(d.warningY), cy = Number(d.criticalY);
  check(Number.isFinite(wy) && Number.isFinite(cy) && cy < wy, `${range} lines drawn at y=${wy} (warning), ${cy} (critical)`);
  check(Number(d.alertMarks) >= 1, `${range} chart marks the firing alert's start`);
  await page.screenshot({ path: path.join(out, `ui-detail-${range}.png`), fullPage: true });
  return d;
}

async function main() {
  const figures = {};
  const browser = await chromium.launch({
    executablePath: env('CHROMIUM', '/usr/bin/chromium'),
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));

    // No token, then a wrong one: a page that says so, no figures.
    await page.goto(base + '/ui/');
    await page.waitForSelector('#login[data-state="missing"]', { timeout: T });
    await login(page, 'not-a-token-of-this-daemon');
    await page.waitForSelector('#login[data-state="refused"]', { timeout: T });
    await page.screenshot({ path: path.join(out, 'ui-refused.png') });

    // acme's overview: timed from the navigation (HTML, script, API calls).
    await login(page, env('MP_UI_ACME'));
    const t0 = Date.now();
    await page.reload();
    await page.waitForSelector('#overview[data-loaded="1"]', { timeout: T });
    figures.overview_wall_ms = Date.now() - t0;
    figures.overview_ms = Number(await page.evaluate(() => document.body.dataset.overviewMs));
    figures.overview_nav_ms = Math.round(await page.evaluate(() => performance.now()));
    // the slowest requests of the load, for whoever reads the figures
    figures.overview_slowest = await page.evaluate(() => performance.getEntriesByType('resource')
      .sort((a, b) => b.duration - a.duration).slice(0, 3)
      .map((e) => `${Math.round(e.duration)}ms ${Math.round(e.encodedBodySize / 1024)}KiB ${e.name.replace(location.origin, '')}`));
    const alertRow = `#alerts tr.alert[data-alertname="bounce_rate"][data-scope="mailbox"][data-key="${mailbox}"]`;
    check(await page.$eval(alertRow, (e) => e.dataset.status) === 'firing', 'the mailbox alert shows as firing');
    figures.mailbox_rows = Number(await page.$eval('section.scope[data-scope="mailbox"]', (e) => e.dataset.rows));
    const worst = await page.$eval('section.scope[data-scope="mailbox"] tr.row', (e) => ({ ...e.dataset }));
    check(worst.key === mailbox && worst.state === 'critical', `worst mailbox first: ${JSON.stringify(worst)}`);
    // The worst mailbox's sparkline: 24 hourly points holding its bounces of now.
    const sparkSel = 'section.scope[data-scope="mailbox"] tr.row svg.spark[data-drawn="1"]';
    await page.waitForSelector(sparkSel, { timeout: T });
    const sp = await page.$eval(sparkSel, (e) => ({ ...e.dataset, n: e.querySelectorAll('polyline').length }));
    check(Number(sp.points) >= 23 && Number(sp.points) <= 25 && sp.n === 1, `sparkline points: ${JSON.stringify(sp)}`);
    check(Number(sp.sumNum) >= sum1h[1] && Number(sp.sumDen) >= sum1h[0], `sparkline holds the last hour: ${JSON.stringify(sp)}`);
    figures.sparklines = await page.$$eval('svg.spark[data-drawn="1"]', (l) => l.length);
    await page.screenshot({ path: path.join(out, 'ui-overview.png'), fullPage: false });

    // The DMARC report the C side posted: 200 messages, 10 failing.
    const authRow = '#auth tr.dmarc-row[data-domain="acme.example"][data-provider="google"]';
    const auth = await page.$eval(authRow, (e) => ({ ...e.dataset }));
    check(Number(auth.messages) === 200 && Math.abs(Number(auth.dmarcFailRate) - 0.05) < 1e-9 &&
      Math.abs(Number(auth.dkimFailRate) - 0.05) < 1e-9, `DMARC row: ${JSON.stringify(auth)}`);
    const cells = await page.$$eval(authRow + ' td', (tds) => tds.map((t) => t.className + ':' + t.textContent));
    check(cells[3] === 'num st-critical:5.00%', `DMARC fail cell at the critical line: ${cells[3]}`);
    check(cells[4] === 'num st-warning:5.00%', `DKIM fail cell at the warning line: ${cells[4]}`);
    // the rates per day: the report's one day of 200 messages, drawn with the critical line
    const dc = await page.waitForSelector('#auth .dmarc-chart[data-drawn="1"]', { timeout: T });
    const dcd = await dc.evaluate((e) => ({ ...e.dataset }));
    check(dcd.messages === '200' && dcd.reportDays === '1' && Number(dcd.days) === 30 && Number.isFinite(Number(dcd.criticalY)) && dcd.criticalY !== '',
      `DMARC chart: ${JSON.stringify(dcd)}`);
    // one domain as one provider reported it: the same report, picked
    await page.selectOption('#dmarc-domain', 'acme.example|google');
    await page.waitForSelector('#auth .dmarc-chart[data-domain="acme.example|google"][data-messages="200"][data-drawn="1"]', { timeout: T });
    // blocklists: 192.0.2.10 listed on bl.test (its code's meaning shown), 192.0.2.12 clean
    await page.waitForSelector('#blocklists[data-listed="1"][data-clean="1"]', { timeout: T });
    const bl = await page.$$eval('#blocklists tr.bl-check', (l) => l.map((r) => [r.dataset.target, r.dataset.status,
      [...r.querySelectorAll('td')].map((t) => t.textContent).join('|')]));
    check(bl.length === 2 && bl[0][0] === '192.0.2.10' && bl[0][1] === 'listed' && bl[0][2].includes('127.0.0.2') &&
      bl[0][2].includes('test listing: spam source') && bl[1][0] === '192.0.2.12' && bl[1][1] === 'clean',
    `blocklist rows: ${JSON.stringify(bl)}`);
    await (await page.$('#blocklists')).screenshot({ path: path.join(out, 'ui-blocklists.png') });
    figures.dmarc_rows = Number(await page.$eval('#auth', (e) => e.dataset.count));
    await (await page.$('#auth')).screenshot({ path: path.join(out, 'ui-auth.png') });

    await chart(page, '1h', sum1h, figures);
    await chart(page, '35d', sum35, figures);

    // A silence from the alert's button; the page lists it once made.
    await page.evaluate(() => { location.hash = '#/t/acme'; });
    await page.waitForSelector(alertRow + ' button.silence', { timeout: T });
    await page.click(alertRow + ' button.silence');
    await page.waitForFunction(() => document.body.dataset.lastSilence, null, { timeout: T });
    figures.silence_id = await page.evaluate(() => document.body.dataset.lastSilence);
    await page.waitForSelector(`#silences tr.silence-row[data-id="${figures.silence_id}"]`, { timeout: T });
    await page.waitForSelector(alertRow + '[data-silenced="1"]', { timeout: T });
    await page.screenshot({ path: path.join(out, 'ui-silenced.png'), fullPage: false });
    // The chart again: the alert's past (fired) and the silence in force as a band.
    await page.evaluate((h) => { location.hash = h; }, `#/t/acme/k/mailbox/${encodeURIComponent(mailbox)}/1h`);
    const band = '.chart[data-rule="bounce_rate"][data-step="5m"][data-silence-bands="1"]';
    await page.waitForSelector(band, { timeout: T });
    const hd = await page.$eval(band, (e) => ({ ...e.dataset }));
    check(Number(hd.historyFired) >= 1 && Number(hd.historyResolved) === 0, `the alert's past on the axis: ${JSON.stringify(hd)}`);
    figures.history_marks = Number(hd.historyFired) + Number(hd.historySeverity) + Number(hd.historySilenced);
    await page.screenshot({ path: path.join(out, 'ui-detail-silenced.png'), fullPage: true });

    // acme's token on beta: the page of a tenant it cannot see, and the API's 404.
    await page.evaluate(() => { location.hash = '#/t/beta'; });
    await page.waitForSelector('#not-found', { timeout: T });
    figures.beta_stats_status = await page.evaluate(async (tok) => (await fetch('/v1/tenants/beta/stats',
      { headers: { Authorization: 'Bearer ' + tok } })).status, env('MP_UI_ACME'));
    check(figures.beta_stats_status === 404, 'acme token on beta stats: ' + figures.beta_stats_status);
    check(!(await page.content()).includes('x@beta.example'), "beta's mailbox on acme's page");

    // The admin token: every tenant (GET /v1/tenants), the one with a
    // critical alert first, its 24h figures; the filter narrows the list.
    const adm = await browser.newPage({ viewport: { width: 1280, height: 700 } });
    adm.on('pageerror', (e) => errors.push(e.message));
    await login(adm, env('MP_UI_ADMIN'));
    await adm.waitForSelector('#tenant-list tr[data-tenant="beta"]', { timeout: T });
    const listed = await adm.$$eval('#tenant-list tbody tr', (l) => l.map((r) => r.dataset.tenant));
    check(listed.join(',') === 'acme,beta', `tenant list: ${listed}`);
    const acmeRow = await adm.$$eval('#tenant-list tr[data-tenant="acme"] td', (l) => l.map((t) => t.textContent));
    check(/critical/.test(acmeRow[1]), `acme's alerts cell: ${acmeRow[1]}`);
    check(Number(acmeRow[2]) >= sum1h[0], `acme's sent over 24h ${acmeRow[2]} (the last hour alone sent ${sum1h[0]})`);
    const betaRow = await adm.$$eval('#tenant-list tr[data-tenant="beta"] td', (l) => l.map((t) => t.textContent));
    check(betaRow[2] === '100' && betaRow[5] === '4', `beta's row: ${betaRow}`);
    figures.tenant_list = listed.length;
    await adm.screenshot({ path: path.join(out, 'ui-tenants.png') });
    await adm.fill('#tenant', 'bet');
    await adm.waitForFunction(() => document.querySelectorAll('#tenant-list tbody tr').length === 1, null, { timeout: T });
    check(await adm.$eval('#tenant-list tbody tr', (r) => r.dataset.tenant) === 'beta', 'the filter keeps beta');
    await adm.click('#tenant-list a');
    await adm.waitForSelector('#overview[data-loaded="1"][data-tenant="beta"]', { timeout: T });
    check(errors.length === 0, 'page errors: ' + errors.join('; '));
  } finally {
    await browser.close();
  }
  figures.ok = true;
  process.stdout.write(JSON.stringify(figures) + '\n');
}

main().catch((e) => {
  process.stderr.write('ui_e2e: ' + (e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
