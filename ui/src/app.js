// app.js — the mailpulse web UI (README, "Web UI"). One page, hash routes:
//   #/                      every tenant (admin token: GET /v1/tenants) or the token's tenant
//   #/t/TENANT              overview: rates beside thresholds, alerts, silences, pauses
//   #/t/TENANT/k/SCOPE/NAME[/RANGE]   one key's rate charts (RANGE 1h|24h|7d|35d)
// Every figure comes from the daemon's JSON API with the viewer's token
// (Authorization: Bearer), kept in sessionStorage. The page polls every
// POLL_MS and redraws in place; it sets data-* attributes on what it draws
// (points, sums, threshold lines, timings) so tests/ui_e2e.cjs can check it.
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { h, pct, enc, token, api, TOKEN_KEY } from './util.js';
import { drawChart, historyOf, stepSecs } from './chart.js';
import { authSection, blocklistSection, DMARC_DAYS } from './auth.js';

const POLL_MS = 5000;
const SCOPES = [
  ['tenant', 'Tenant'],
  ['mailbox', 'Mailboxes'],
  ['provider', 'Providers'],
  ['recipient_domain', 'Recipient domains'],
  ['campaign', 'Campaigns'],
];
const RANGES = {
  '1h': { step: '5m', back: 55 * 60 },
  '24h': { step: '1h', back: 23 * 3600 },
  '7d': { step: '1d', back: 6 * 86400 },
  '35d': { step: '1d', back: null }, // as far back as the daily step reaches
};
const GROUP_LIMIT = 1000; // stats groups per scope
const SPARK_ROWS = 10;      // overview rows a scope with a 24h sparkline (one series call each)
const SPARK_TTL_MS = 60000; // a sparkline's series is asked again after this
const ROWS_SHOWN = 50;    // overview rows per scope, worst first

const main = document.getElementById('main');
let pollTimer = null;
let charts = [];
let viewSeq = 0;

function route() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  if (parts[0] === 't' && parts[1]) {
    if (parts[2] === 'k' && parts[3]) {
      // a name may hold '/' (mailbox_provider); the range is the last part when it is one
      let rest = parts.slice(4);
      let range = '24h';
      if (rest.length > 1 && RANGES[rest[rest.length - 1]]) range = rest.pop();
      return { view: 'key', tenant: parts[1], scope: parts[3], name: rest.join('/'), range };
    }
    return { view: 'overview', tenant: parts[1] };
  }
  return { view: 'home' };
}

// ---- the token ------------------------------------------------------------
function loginPage(why) {
  stopPoll();
  document.getElementById('logout').hidden = true;
  document.getElementById('who').textContent = '';
  const input = h('input', { type: 'password', id: 'token', autocomplete: 'off', placeholder: 'admin or tenant token' });
  main.replaceChildren(h('section', { id: 'login', dataset: { state: why ? 'refused' : 'missing' } },
    h('h2', {}, why ? 'Token not accepted' : 'A token is needed'),
    why ? h('p', { class: 'error', id: 'login-error' }, why) : null,
    h('p', {}, 'mailpulse shows its figures to the holders of a token of http.tokens: the admin token sees every tenant, a tenant token its own tenant. It is kept in this tab only (sessionStorage).'),
    h('form', { class: 'login', onsubmit: (ev) => {
      ev.preventDefault();
      sessionStorage.setItem(TOKEN_KEY, input.value.trim());
      render();
    } }, input, h('p', {}, h('button', { type: 'submit', id: 'login-go' }, 'open')))));
  input.focus();
}

// Whose token: the rules route answers every token, scoped to its tenant.
// Asked once per token (a hash change needs no round trip for it).
let me = null;
async function whoami() {
  if (me && me.token === token()) return me;
  const r = await api('/v1/rules');
  me = { token: token(), tenant: r.tenant, admin: r.tenant === null };
  return me;
}

// A tenant's rules, kept RULES_TTL_MS: they change only with a reload.
const RULES_TTL_MS = 30000;
const rulesCache = new Map();
async function rulesOf(tenant) {
  const c = rulesCache.get(tenant);
  if (c && c.token === token() && performance.now() - c.at < RULES_TTL_MS) return c.rules;
  const rules = (await api('/v1/rules?tenant=' + enc(tenant))).rules;
  rulesCache.set(tenant, { token: token(), at: performance.now(), rules });
  return rules;
}

// ---- views ----------------------------------------------------------------
function stopPoll() {
  if (pollTimer) clearTimeout(pollTimer);
  pollTimer = null;
}
function schedule(fn) {
  stopPoll();
  const seq = viewSeq;
  pollTimer = setTimeout(async () => {
    if (seq !== viewSeq) return;
    try { await fn(); setLive(true); } catch (e) { setLive(false, e); }
    if (seq === viewSeq) schedule(fn);
  }, POLL_MS);
}
function setLive(ok, e) {
  const el = document.getElementById('live');
  el.textContent = ok ? 'live · updated ' + new Date().toLocaleTimeString() : 'update failed: ' + (e && e.message);
  el.className = ok ? '' : 'error';
}

async function render() {
  viewSeq++;
  stopPoll();
  charts.forEach((c) => c.destroy());
  charts = [];
  let who;
  try { who = await whoami(); } catch (e) {
    // no token yet: the API wants one (without http.tokens it is open, and
    // the page goes on as the admin without asking)
    if (e.status === 401 && !token()) return loginPage(null);
    if (e.status === 401) return loginPage('The daemon refused this token (401). Check http.tokens in its config.');
    main.replaceChildren(h('section', {}, h('p', { class: 'error' }, 'The API cannot be reached: ' + e.message)));
    return;
  }
  document.getElementById('logout').hidden = false;
  document.getElementById('who').textContent = !token() ? 'open API (no http.tokens)' : who.admin ? 'admin token' : 'tenant ' + who.tenant;
  document.getElementById('logout').hidden = !token();
  const r = route();
  if (r.view === 'home') {
    if (!who.admin) { location.hash = '#/t/' + enc(who.tenant); return; }
    return picker();
  }
  if (!who.admin && r.tenant !== who.tenant) return notYours(r.tenant);
  try {
    if (r.view === 'overview') await overview(r.tenant);
    else await keyView(r);
  } catch (e) {
    // the first load failed (a poll that fails says so in the header)
    if (e.status === 401) { me = null; return loginPage('The daemon refused this token (401).'); }
    main.replaceChildren(h('section', { id: 'failed' }, h('h2', {}, 'The page could not load'), h('p', { class: 'error' }, e.message)));
  }
}

function notYours(tenant) {
  main.replaceChildren(h('section', { id: 'not-found' }, h('h2', {}, 'Unknown tenant'),
    h('p', {}, `No tenant "${tenant}" for this token: it was never counted, or another token's.`)));
}

async function picker() {
  // Every tenant (GET /v1/tenants, the admin token), those with alerts first.
  const [list, alerts] = await Promise.all([api('/v1/tenants?window=24h'), api('/v1/alerts').catch(() => ({ alerts: [] }))]);
  const firing = new Map();
  for (const a of alerts.alerts) {
    const t = a.labels.tenant, f = firing.get(t) || { critical: 0, warning: 0 };
    if (a.status === 'firing') f[a.labels.severity === 'critical' ? 'critical' : 'warning']++;
    firing.set(t, f);
  }
  const rows = list.tenants.map((t) => ({ ...t, f: firing.get(t.tenant) || { critical: 0, warning: 0 } }));
  rows.sort((x, y) => y.f.critical - x.f.critical || y.f.warning - x.f.warning || (x.tenant < y.tenant ? -1 : 1));
  const input = h('input', { id: 'tenant', list: 'tenants', placeholder: 'tenant name (type to filter)' });
  const body = h('tbody', {});
  const fill = () => {
    const q = input.value.trim().toLowerCase();
    body.replaceChildren(...rows.filter((t) => !q || t.tenant.toLowerCase().includes(q)).map((t) => h('tr', { dataset: { tenant: t.tenant } },
      h('td', { class: 'key' }, h('a', { href: '#/t/' + enc(t.tenant) }, t.tenant)),
      h('td', {}, t.f.critical ? h('span', { class: 'sev-critical' }, t.f.critical + ' critical ') : null,
        t.f.warning ? h('span', { class: 'sev-warning' }, t.f.warning + ' warning') : null,
        !t.f.critical && !t.f.warning ? h('span', { class: 'st-ok' }, 'none') : null),
      h('td', { class: 'num' }, String(t.counts.sent)),
      h('td', { class: 'num' }, pct(t.rates.bounce_rate)),
      h('td', { class: 'num' }, pct(t.rates.complaint_rate)),
      h('td', { class: 'num' }, String(t.keys)),
      h('td', {}, t.first_seen || '–'))));
  };
  input.addEventListener('input', fill);
  fill();
  main.replaceChildren(h('section', { id: 'picker' }, h('h2', {}, 'Tenants'),
    h('form', { class: 'login', onsubmit: (ev) => { ev.preventDefault(); location.hash = '#/t/' + enc(input.value.trim()); } },
      input, h('datalist', { id: 'tenants' }, rows.map((t) => h('option', { value: t.tenant }))),
      h('p', {}, h('button', { type: 'submit' }, 'open'))),
    h('p', { class: 'muted' }, `${list.tenants_total} tenants${list.truncated ? `, the first ${list.limit} by name` : ''}; figures over 24h`),
    h('table', { id: 'tenant-list' }, h('thead', {}, h('tr', {}, ...['tenant', 'alerts firing', 'sent', 'bounce', 'complaint', 'keys', 'first seen'].map((c, i) =>
      h('th', { class: i >= 2 && i <= 5 ? 'num' : '' }, c)))), body)));
}

// The stats window a rule is read in: its own when the stats API has it.
function statsWindow(w) {
  const m = /^(\d+)([mhd])$/.exec(w || '');
  if (!m) return '24h';
  const min = Number(m[1]) * { m: 1, h: 60, d: 1440 }[m[2]];
  return min <= 60 ? '1h' : min <= 1440 ? '24h' : '7d';
}
const sum = (counts, types) => types.reduce((s, t) => s + ((counts && counts[t]) || 0), 0);

// One rule on one group's counts: value, level, and how far it is to the worst.
function judge(rule, counts) {
  const den = sum(counts, rule.denominator);
  const num = sum(counts, rule.numerator);
  const enough = den >= (rule.min_volume || 0) && den > 0;
  const value = den > 0 ? num / den : null;
  let st = 'ok';
  if (!enough) st = 'low';
  else if (rule.critical !== null && value >= rule.critical) st = 'critical';
  else if (rule.warning !== null && value >= rule.warning) st = 'warning';
  const ref = rule.warning || rule.critical || 1;
  return { num, den, value, st, score: value === null ? -1 : (enough ? value / ref : value / ref / 1000) };
}

const ratioRules = (rules, scope) => rules.filter((r) => r.enabled && r.kind === 'ratio' && r.scopes.includes(scope) && r.denominator.length);

async function overview(tenant) {
  const t0 = performance.now();
  const seq = viewSeq;
  const root = h('div', { id: 'overview', dataset: { tenant } });
  main.replaceChildren(h('p', { class: 'muted' }, 'loading ' + tenant + '…'));
  const draw = async () => {
    const rules = await rulesOf(tenant);
    const wanted = new Map(); // "scope|window" -> promise of stats
    for (const [scope] of SCOPES)
      for (const r of ratioRules(rules, scope)) {
        const w = statsWindow(r.window);
        const k = scope + '|' + w;
        if (!wanted.has(k)) {
          const q = scope === 'tenant' ? `window=${w}` : `window=${w}&by=${scope}&limit=${GROUP_LIMIT}`;
          wanted.set(k, api(`/v1/tenants/${enc(tenant)}/stats?${q}`).catch((e) => e));
        }
      }
    const [alerts, silences, pauses, am, dmarc, blocks] = await Promise.all([
      api('/v1/alerts?tenant=' + enc(tenant)).catch((e) => e),
      api('/api/v2/silences').catch((e) => e),
      api('/v1/gate/pauses?tenant=' + enc(tenant)).catch((e) => e),
      api('/api/v2/alerts?filter=' + enc(`tenant="${tenant}"`)).catch(() => []),
      api(`/v1/tenants/${enc(tenant)}/dmarc?days=${DMARC_DAYS}`).catch((e) => e),
      api(`/v1/tenants/${enc(tenant)}/blocklists`).catch((e) => e),
    ]);
    // which alerts a silence mutes: the Alertmanager view says, by fingerprint
    const muted = new Set(am.filter((a) => a.status && a.status.state === 'suppressed').map((a) => a.fingerprint));
    if (!(alerts instanceof Error)) for (const a of alerts.alerts) a.silenced = muted.has(a.fingerprint);
    const stats = new Map();
    for (const [k, p] of wanted) stats.set(k, await p);
    if (seq !== viewSeq) return;
    const anyStats = [...stats.values()].find((s) => !(s instanceof Error));
    const firstErr = [...stats.values()].find((s) => s instanceof Error);
    if (!anyStats && firstErr && firstErr.status === 404) return notYours(tenant);
    const kids = [h('h2', {}, 'Tenant ', h('span', { id: 'tenant-name' }, tenant))];
    kids.push(alertsSection(tenant, alerts));
    kids.push(silencesSection(tenant, silences));
    for (const [scope, title] of SCOPES) kids.push(scopeSection(tenant, scope, title, rules, stats));
    kids.push(pausesSection(pauses));
    kids.push(authSection(dmarc, rules));
    kids.push(blocklistSection(alerts, blocks));
    root.replaceChildren(...kids.filter(Boolean));
    if (!root.isConnected) main.replaceChildren(root);
  };
  await draw();
  if (seq !== viewSeq) return;
  document.body.dataset.overviewMs = String(Math.round(performance.now() - t0));
  root.dataset.loaded = '1';
  schedule(draw);
}

function scopeSection(tenant, scope, title, rules, stats) {
  const rs = ratioRules(rules, scope);
  if (!rs.length) return null;
  const rows = [];
  let total = 0, truncated = false;
  for (const r of rs) {
    const s = stats.get(scope + '|' + statsWindow(r.window));
    if (!s || s instanceof Error) continue;
    const groups = scope === 'tenant' ? [{ tenant, counts: s.counts }] : s.groups;
    total = Math.max(total, scope === 'tenant' ? 1 : s.groups_total);
    truncated = truncated || (scope !== 'tenant' && s.groups_total > s.groups.length);
    for (const g of groups) rows.push({ key: scope === 'tenant' ? tenant : g[scope], rule: r, w: s.window, j: judge(r, g.counts) });
  }
  if (!rows.length) return scope === 'tenant' ? h('section', {}, h('h2', {}, title), h('p', { class: 'muted' }, 'no events counted')) : null;
  rows.sort((a, b) => b.j.score - a.j.score || b.j.den - a.j.den);
  const shown = rows.slice(0, ROWS_SHOWN);
  return h('section', { class: 'scope', dataset: { scope, rows: String(rows.length) } },
    h('h2', {}, title, ' ', h('span', { class: 'muted' }, `(${total} keys${truncated ? ', the ' + GROUP_LIMIT + ' most sent' : ''}; worst first${rows.length > ROWS_SHOWN ? ', top ' + ROWS_SHOWN + ' rows' : ''})`)),
    h('table', {}, h('tr', {}, h('th', {}, 'key'), h('th', {}, 'rule'), h('th', {}, 'window'), h('th', { class: 'num' }, 'rate'), h('th', {}, 'last 24h'),
      h('th', { class: 'num' }, 'warning'), h('th', { class: 'num' }, 'critical'), h('th', { class: 'num' }, 'volume'), h('th', {}, 'state')),
    shown.map((x) => h('tr', { class: 'row', dataset: { key: x.key, rule: x.rule.name, state: x.j.st } },
      h('td', { class: 'key' }, h('a', { href: `#/t/${enc(tenant)}/k/${scope}/${scope === 'tenant' ? enc(tenant) : enc(x.key)}` }, x.key)),
      h('td', {}, x.rule.name), h('td', {}, x.w + (x.w !== x.rule.window ? ` (rule: ${x.rule.window})` : '')),
      h('td', { class: 'num' }, pct(x.j.value)), h('td', {}, shown.indexOf(x) < SPARK_ROWS ? spark(tenant, scope, x.key, x.rule) : null),
      h('td', { class: 'num' }, pct(x.rule.warning)), h('td', { class: 'num' }, pct(x.rule.critical)),
      h('td', { class: 'num' }, `${x.j.den} ${x.rule.denominator.join('+')}`),
      h('td', { class: 'st-' + x.j.st }, x.j.st === 'low' ? `under ${x.rule.min_volume}` : x.j.st)))));
}

function alertKey(a) {
  if (a.labels.mailbox && a.labels.provider) return ['mailbox_provider', `${a.labels.mailbox}/${a.labels.provider}`];
  for (const s of ['mailbox', 'recipient_domain', 'provider', 'campaign']) if (a.labels[s]) return [s, a.labels[s]];
  return ['tenant', a.labels.tenant];
}

// What an alert is about, in words: its key, or the labels of an alert
// raised outside the counters (DMARC: domain and reporter; blocklists).
function alertWhere(a, scope, name) {
  const l = a.labels;
  if (l.domain && l.reporter) return `domain ${l.domain}, reporter ${l.reporter}`;
  if (l.zone) return `${l.ip ? 'ip ' + l.ip : 'domain ' + l.domain} on ${l.zone}`;
  if (l.domain) return `domain ${l.domain}`;
  return scope === 'tenant' ? 'tenant' : `${scope} ${name}`;
}

function alertsSection(tenant, alerts) {
  if (alerts instanceof Error) return h('section', { id: 'alerts' }, h('h2', {}, 'Alerts'), h('p', { class: 'error' }, alerts.message));
  const list = alerts.alerts || [];
  return h('section', { id: 'alerts', dataset: { count: String(list.length) } }, h('h2', {}, `Alerts (${list.length} firing or pending)`),
    list.length ? h('table', {}, h('tr', {}, h('th', {}, 'alert'), h('th', {}, 'severity'), h('th', {}, 'state'), h('th', {}, 'key'),
      h('th', { class: 'num' }, 'value'), h('th', { class: 'num' }, 'threshold'), h('th', {}, 'since'), h('th', {}, '')),
    list.map((a) => {
      const [scope, name] = alertKey(a);
      return h('tr', { class: 'alert', dataset: { alertname: a.labels.alertname, status: a.status, key: name, scope, silenced: a.silenced ? '1' : '0' } },
        h('td', {}, a.labels.alertname), h('td', { class: 'sev-' + a.labels.severity }, a.labels.severity),
        h('td', {}, a.status, a.silenced ? h('span', { class: 'pill' }, ' silenced') : null),
        h('td', { class: 'key' }, h('a', { href: `#/t/${enc(tenant)}/k/${scope}/${enc(name)}` }, alertWhere(a, scope, name))),
        h('td', { class: 'num' }, a.annotations.value), h('td', { class: 'num' }, a.annotations.threshold), h('td', {}, a.startsAt),
        h('td', {}, h('button', { class: 'silence', onclick: () => silenceAlert(a) }, 'silence 2h')));
    })) : h('p', { class: 'muted' }, 'none'));
}

async function silenceAlert(a) {
  // the alert's own key labels, so the silence mutes this alert and no other key's
  const matchers = ['tenant', 'alertname', 'mailbox', 'recipient_domain', 'provider', 'campaign']
    .filter((l) => a.labels[l]).map((l) => ({ name: l, value: a.labels[l], isRegex: false, isEqual: true }));
  const now = new Date();
  const body = { matchers, startsAt: now.toISOString(), endsAt: new Date(now.getTime() + 2 * 3600e3).toISOString(),
    createdBy: 'web-ui', comment: `silenced from the web UI: ${a.annotations.summary || a.labels.alertname}` };
  try {
    const r = await api('/api/v2/silences', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    document.body.dataset.lastSilence = r.silenceID;
  } catch (e) { alert('silence refused: ' + e.message); }
  render();
}

function pinsTenant(s, tenant) {
  return s.matchers.some((m) => m.name === 'tenant' && m.value === tenant && !m.isRegex && m.isEqual !== false);
}

function silencesSection(tenant, silences) {
  if (silences instanceof Error) return h('section', { id: 'silences' }, h('h2', {}, 'Silences'), h('p', { class: 'error' }, silences.message));
  const list = silences.filter((s) => s.status.state !== 'expired' && pinsTenant(s, tenant));
  return h('section', { id: 'silences', dataset: { count: String(list.length) } }, h('h2', {}, `Silences (${list.length} active or pending)`),
    list.length ? h('table', {}, h('tr', {}, h('th', {}, 'matchers'), h('th', {}, 'state'), h('th', {}, 'ends'), h('th', {}, 'by'), h('th', {}, 'comment'), h('th', {}, '')),
      list.map((s) => h('tr', { class: 'silence-row', dataset: { id: s.id } },
        h('td', { class: 'key' }, s.matchers.map((m) => `${m.name}${m.isEqual === false ? '!' : ''}${m.isRegex ? '=~' : '='}${m.value}`).join(' ')),
        h('td', {}, s.status.state), h('td', {}, s.endsAt), h('td', {}, s.createdBy), h('td', { class: 'key' }, s.comment),
        h('td', {}, h('button', { class: 'expire', onclick: async () => {
          try { await api('/api/v2/silence/' + enc(s.id), { method: 'DELETE' }); } catch (e) { alert('expire refused: ' + e.message); }
          render();
        } }, 'expire'))))) : h('p', { class: 'muted' }, 'none'));
}

function pausesSection(p) {
  if (p instanceof Error) return h('section', { id: 'pauses' }, h('h2', {}, 'Send gate'), h('p', { class: 'muted' }, p.status === 503 ? 'the send gate is not configured' : p.message));
  const list = p.pauses || [];
  return h('section', { id: 'pauses', dataset: { count: String(list.length) } }, h('h2', {}, `Send gate pauses (${list.length})`),
    list.length ? h('table', {}, h('tr', {}, h('th', {}, 'scope'), h('th', {}, 'key'), h('th', {}, 'alert'), h('th', {}, 'state'), h('th', {}, 'since'), h('th', {}, 'lifts at')),
      list.map((x) => h('tr', {}, h('td', {}, x.scope), h('td', { class: 'key' }, x.mailbox || x.recipient_domain || x.provider || x.tenant),
        h('td', {}, `${x.alertname} (${x.severity})`), h('td', {}, x.state), h('td', {}, x.since), h('td', {}, x.lifts_at || '–')))) : h('p', { class: 'muted' }, 'none'));
}

// ---- sparklines ----------------------------------------------------------------
// The rule's rate per hour over the last 24 hours (the series API, cached
// SPARK_TTL_MS per key), its warning line dashed. Drawn into the cell once
// the answer is in; data-* say what it holds (for people and the test).
const sparkCache = new Map();
function sparkSeries(tenant, scope, key) {
  const k = `${token()}|${tenant}|${scope}|${key}`;
  const c = sparkCache.get(k);
  if (c && performance.now() - c.at < SPARK_TTL_MS) return c.p;
  let q = `step=1h&from=${Math.floor(Date.now() / 1000) - 23 * 3600}`;
  if (scope !== 'tenant') q += `&scope=${enc(scope)}&name=${enc(key)}`;
  const p = api(`/v1/tenants/${enc(tenant)}/series?${q}`).catch((e) => e);
  sparkCache.set(k, { at: performance.now(), p });
  return p;
}

const SVG = 'http://www.w3.org/2000/svg';
function spark(tenant, scope, key, rule) {
  const W = 120, H = 22;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('width', W);
  svg.setAttribute('height', H);
  sparkSeries(tenant, scope, key).then((s) => {
    if (s instanceof Error || !s.points) { svg.dataset.points = '0'; return; }
    const pts = s.points.map((p) => {
      const den = sum(p.counts, rule.denominator), num = sum(p.counts, rule.numerator);
      return { num, den, rate: den ? num / den : null };
    });
    const top = Math.max(rule.critical || 0, ...pts.map((p) => p.rate || 0), 1e-6) * 1.1;
    const x = (i) => (pts.length > 1 ? (i * (W - 2)) / (pts.length - 1) + 1 : W / 2);
    const y = (v) => H - 1 - (v / top) * (H - 2);
    const line = document.createElementNS(SVG, 'polyline');
    line.setAttribute('points', pts.map((p, i) => (p.rate === null ? null : `${x(i).toFixed(1)},${y(p.rate).toFixed(1)}`)).filter(Boolean).join(' '));
    line.setAttribute('class', 'spark-rate');
    svg.append(line);
    pts.forEach((p, i) => { // a dot per hour with mail: one alone draws no line
      if (p.rate === null) return;
      const c = document.createElementNS(SVG, 'circle');
      c.setAttribute('cx', x(i).toFixed(1)); c.setAttribute('cy', y(p.rate).toFixed(1)); c.setAttribute('r', '1.6');
      c.setAttribute('class', 'spark-dot');
      svg.append(c);
    });
    if (rule.warning !== null) {
      const w = document.createElementNS(SVG, 'line');
      w.setAttribute('x1', 0); w.setAttribute('x2', W);
      w.setAttribute('y1', y(rule.warning).toFixed(1)); w.setAttribute('y2', y(rule.warning).toFixed(1));
      w.setAttribute('class', 'spark-warn');
      svg.append(w);
    }
    Object.assign(svg.dataset, { points: String(pts.length), sumNum: String(pts.reduce((a, p) => a + p.num, 0)),
      sumDen: String(pts.reduce((a, p) => a + p.den, 0)), drawn: '1' });
  });
  return svg;
}

// ---- one key ----------------------------------------------------------------
function seriesUrl(r, extra) {
  const R = RANGES[r.range];
  let q = `step=${R.step}`;
  if (R.back !== null) q += `&from=${Math.floor(Date.now() / 1000) - R.back}`;
  if (r.scope !== 'tenant') q += `&scope=${enc(r.scope)}&name=${enc(r.name)}`;
  return `/v1/tenants/${enc(r.tenant)}/series?${q}${extra}`;
}

// The key's past alerts over the chart's range (and a step before it).
function historyUrl(r) {
  const R = RANGES[r.range];
  let q = `scope=${enc(r.scope)}&limit=10000`;
  if (R.back !== null) q += `&from=${Math.floor(Date.now() / 1000) - R.back - 2 * stepSecs(R.step)}`;
  if (r.scope !== 'tenant') q += `&name=${enc(r.name)}`;
  return `/v1/tenants/${enc(r.tenant)}/alerts/history?${q}`;
}

async function keyView(r) {
  const t0 = performance.now();
  const seq = viewSeq;
  const base = `#/t/${enc(r.tenant)}/k/${r.scope}/${r.scope === 'tenant' ? enc(r.tenant) : enc(r.name)}`;
  const rules = ratioRules(await rulesOf(r.tenant), r.scope)
    .filter((x) => x.numerator.length === 1 && x.denominator.length === 1);
  const wrap = h('div', { class: 'charts' });
  const counts = h('div', { id: 'counts' });
  const alertsBox = h('div', {});
  main.replaceChildren(h('section', { id: 'key', dataset: { scope: r.scope, name: r.name } },
    h('h2', {}, h('a', { href: `#/t/${enc(r.tenant)}` }, r.tenant), ' · ', r.scope === 'tenant' ? 'tenant' : `${r.scope} ${r.name}`),
    h('p', { class: 'tabs' }, Object.keys(RANGES).map((k) => h('a', { href: `${base}/${k}`, class: k === r.range ? 'on' : null }, k))),
    wrap), alertsBox, h('section', {}, h('h2', {}, 'Counts per type over the range'), counts));
  const made = new Map();
  const draw = async () => {
    // One answer with every type; each rule's rate per step is computed
    // here exactly as the series API's rate= does (num / den, null at 0).
    const [all, alerts, hist] = await Promise.all([
      api(seriesUrl(r, '')).catch((e) => e),
      api('/v1/alerts?tenant=' + enc(r.tenant)).catch(() => ({ alerts: [] })),
      api(historyUrl(r)).catch((e) => e),
    ]);
    if (seq !== viewSeq) return;
    const mine = alerts.alerts.filter((a) => { const [s, n] = alertKey(a); return s === r.scope && (s === 'tenant' || n === r.name); });
    alertsBox.replaceChildren(alertsSection(r.tenant, { alerts: mine }));
    rules.forEach((rule) => {
      if (all instanceof Error) {
        if (!made.has(rule.name)) wrap.append(h('div', { class: 'chart' }, h('h3', {}, rule.name), h('p', { class: all.status === 404 ? 'muted' : 'error' }, all.status === 404 ? 'no events counted for this key' : all.message)));
        made.set(rule.name, null);
        return;
      }
      const [num, den] = [rule.numerator[0], rule.denominator[0]];
      const points = all.points.map((p) => ({ ts: p.ts, counts: p.counts,
        rate: p.counts[den] ? (p.counts[num] || 0) / p.counts[den] : null }));
      const plot = drawChart(wrap, made, rule, { step: all.step, points }, historyOf(hist, rule.alertname));
      if (plot) charts.push(plot);
    });
    counts.replaceChildren(countsTable(all));
  };
  await draw();
  if (seq !== viewSeq) return;
  document.body.dataset.chartMs = String(Math.round(performance.now() - t0));
  schedule(draw);
}

function countsTable(all) {
  if (all instanceof Error) return h('p', { class: 'muted' }, all.status === 404 ? 'no events counted for this key' : all.message);
  const tot = {};
  for (const p of all.points) for (const [t, n] of Object.entries(p.counts)) tot[t] = (tot[t] || 0) + n;
  return h('table', { dataset: tot }, h('tr', {}, all.types.map((t) => h('th', { class: 'num' }, t))),
    h('tr', {}, all.types.map((t) => h('td', { class: 'num', dataset: { type: t } }, String(tot[t] || 0)))));
}

// ---- start ------------------------------------------------------------------
document.getElementById('logout').addEventListener('click', () => { sessionStorage.removeItem(TOKEN_KEY); location.hash = '#/'; render(); });
window.addEventListener('hashchange', render);
render();
