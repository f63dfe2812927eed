// auth.js — the overview's authentication and blocklist panels.
//   DMARC aggregate reports (GET /v1/tenants/T/dmarc): per header-from
//   domain and reporting provider, each failure rate beside the DMARC
//   rules' lines (kind dmarc_rate in /v1/rules), and the rates per UTC day
//   over the panel's days (all domains, one, or one as one provider
//   reported it) in a uPlot chart
//   with the dmarc_fail_rate rule's lines.
//   Blocklists (GET /v1/tenants/T/blocklists): every watched IP and domain
//   on every zone, listed, clean or unknown, with the last answer's time;
//   the listings' alerts (`blocklisted`) beside them.
import uPlot from 'uplot';
import { h, pct } from './util.js';

export const DMARC_DAYS = 30; // the panel's days (reports come a day late)
const AUTH_RATES = [['dmarc_fail', 'dmarc_fail_rate', 'DMARC fail', '#c62828'],
  ['dkim_fail', 'dkim_fail_rate', 'DKIM fail', '#d98a00'], ['spf_fail', 'spf_fail_rate', 'SPF fail', '#1f77b4']];
const DAY = 86400;

// The panel's state across polls: the domain picked, the chart drawn.
const state = { domain: '', plot: null };

function authLevel(rule, value, messages) {
  if (!rule || value === null || value === undefined) return 'ok';
  if (messages < (rule.min_volume || 0)) return 'low';
  if (rule.critical !== null && value >= rule.critical) return 'critical';
  if (rule.warning !== null && value >= rule.warning) return 'warning';
  return 'ok';
}

// Per-day sums of the report rows (of one domain, or all), one point per
// day of the panel's range, oldest first; a day without reports is null.
function perDay(d, pick) {
  const [domain, provider] = pick ? pick.split('|') : [];
  const byDay = new Map();
  for (const s of d.sources || []) {
    if ((domain && s.domain !== domain) || (provider && s.provider !== provider)) continue;
    const t = Date.parse(s.day + 'T00:00:00Z') / 1000;
    const c = byDay.get(t) || { messages: 0, dmarc_fail: 0, dkim_fail: 0, spf_fail: 0 };
    for (const k of Object.keys(c)) c[k] += s[k] || 0;
    byDay.set(t, c);
  }
  const last = Math.floor(Date.parse(d.to + (d.to.length === 10 ? 'T00:00:00Z' : '')) / 1000 / DAY) * DAY;
  const xs = [];
  for (let t = last - (DMARC_DAYS - 1) * DAY; t <= last; t += DAY) xs.push(t);
  const rows = xs.map((t) => byDay.get(t));
  return { xs, rows };
}

function dmarcChart(d, rules, wrap) {
  if (state.plot) { state.plot.destroy(); state.plot = null; }
  const { xs, rows } = perDay(d, state.domain);
  const rule = rules.find((r) => r.kind === 'dmarc_rate' && r.count === 'dmarc_fail');
  const series = AUTH_RATES.map(([count]) => rows.map((c) => (c && c.messages ? c[count] / c.messages : null)));
  const messages = rows.reduce((a, c) => a + (c ? c.messages : 0), 0);
  const box = h('div', { class: 'chart dmarc-chart', dataset: { days: String(xs.length), messages: String(messages),
    reportDays: String(rows.filter(Boolean).length), domain: state.domain || '*' } });
  wrap.replaceChildren(box);
  const line = (v) => xs.map(() => (rule ? v : null));
  state.plot = new uPlot({
    width: Math.min(1100, wrap.clientWidth || 900), height: 200,
    scales: { y: { range: (u, lo, hi) => [0, Math.max(hi, rule && rule.critical ? rule.critical * 1.2 : 0, 0.01)] } },
    axes: [{}, { values: (u, v) => v.map((x) => (x * 100).toFixed(1) + '%'), size: 60 }],
    series: [{}, ...AUTH_RATES.map(([, , label, stroke]) => ({ label, stroke, width: 2, points: { show: true, size: 6 }, spanGaps: false })),
      { label: 'DMARC warning', stroke: '#d98a00', dash: [6, 4], points: { show: false } },
      { label: 'DMARC critical', stroke: '#c62828', dash: [6, 4], points: { show: false } }],
    hooks: { draw: [(u) => {
      box.dataset.drawn = '1';
      box.dataset.criticalY = rule && rule.critical !== null ? String(Math.round(u.valToPos(rule.critical, 'y'))) : '';
    }] },
  }, [xs, ...series, line(rule && rule.warning), line(rule && rule.critical)], box);
}

export function authSection(d, rules) {
  const title = h('h2', {}, `Authentication (DMARC reports, last ${DMARC_DAYS} days)`);
  if (d instanceof Error) return h('section', { id: 'auth' }, title, h('p', { class: d.status === 503 ? 'muted' : 'error' }, d.status === 503 ? 'DMARC intake needs the store' : d.message));
  const byCount = new Map(rules.filter((r) => r.kind === 'dmarc_rate').map((r) => [r.count, r]));
  const list = (d.domains || []).slice().sort((a, b) => (b.dmarc_fail_rate || 0) - (a.dmarc_fail_rate || 0) || b.messages - a.messages);
  if (!list.length) return h('section', { id: 'auth', dataset: { count: '0' } }, title, h('p', { class: 'muted' }, 'no DMARC aggregate reports counted (see the README, DMARC intake)'));
  // a header-from domain, or one domain as one provider reported it
  const picks = [...new Set(list.map((x) => x.domain))].sort().flatMap((dom) =>
    [[dom, dom], ...list.filter((x) => x.domain === dom).map((x) => [`${dom}|${x.provider}`, `${dom} · ${x.provider}`])]);
  if (state.domain && !picks.some(([v]) => v === state.domain)) state.domain = '';
  const wrap = h('div', { class: 'charts' });
  const pick = h('select', { id: 'dmarc-domain', onchange: (ev) => { state.domain = ev.target.value; dmarcChart(d, rules, wrap); } },
    h('option', { value: '' }, 'all header-from domains'), picks.map(([v, t]) => h('option', { value: v, selected: v === state.domain }, t)));
  const sec = h('section', { id: 'auth', dataset: { count: String(list.length) } }, title,
    h('table', {}, h('tr', {}, h('th', {}, 'header-from domain'), h('th', {}, 'reporter'), h('th', { class: 'num' }, 'messages'),
      AUTH_RATES.map(([, , t]) => h('th', { class: 'num' }, t)), h('th', { class: 'num' }, 'rejected')),
    list.map((x) => h('tr', { class: 'dmarc-row', dataset: { domain: x.domain, provider: x.provider, messages: String(x.messages),
      dmarcFailRate: String(x.dmarc_fail_rate), dkimFailRate: String(x.dkim_fail_rate), spfFailRate: String(x.spf_fail_rate) } },
      h('td', { class: 'key' }, x.domain), h('td', {}, x.provider), h('td', { class: 'num' }, String(x.messages)),
      AUTH_RATES.map(([count, field]) => {
        const rule = byCount.get(count);
        const st = authLevel(rule, x[field], x.messages);
        return h('td', { class: 'num st-' + st, title: rule ? `warning ${pct(rule.warning)}, critical ${pct(rule.critical)}` : null }, pct(x[field]));
      }),
      h('td', { class: 'num' }, String(x.disposition_reject || 0))))),
    h('h3', {}, 'Failure rates per day ', pick), wrap);
  // drawn once the section is in the page (uPlot measures its box)
  requestAnimationFrame(() => { if (wrap.isConnected) dmarcChart(d, rules, wrap); });
  return sec;
}

const ago = (iso) => {
  if (!iso) return '–';
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return s < 120 ? `${s} s ago` : s < 7200 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`;
};

// st: the checker's status (GET /v1/tenants/T/blocklists); alerts: /v1/alerts.
export function blocklistSection(alerts, st) {
  const title = h('h2', {}, 'Blocklists');
  const listed = alerts instanceof Error ? [] : (alerts.alerts || []).filter((a) => a.labels.alertname === 'blocklisted');
  if (st instanceof Error || !st) {
    return h('section', { id: 'blocklists', dataset: { count: String(listed.length) } }, title,
      h('p', { class: 'error' }, st ? st.message : 'no blocklist status'));
  }
  const checks = st.checks || [];
  const n = (s) => checks.filter((c) => c.status === s).length;
  const head = !st.configured ? 'no blocklists configured (see the README, Blocklists)'
    : !checks.length ? 'no IP or domain of this tenant is watched'
    : `${checks.length} checks: ${n('listed')} listed, ${n('clean')} clean, ${n('unknown')} unknown; every ${st.interval_seconds} s`;
  return h('section', { id: 'blocklists', dataset: { count: String(listed.length), checks: String(checks.length),
    listed: String(n('listed')), clean: String(n('clean')) } }, title,
  h('p', { class: 'muted' }, head),
  checks.length ? h('table', {}, h('tr', {}, ['watched', 'zone', 'status', 'since', 'last answer', 'code', 'meaning'].map((c) => h('th', {}, c))),
    checks.map((c) => h('tr', { class: 'bl-check' + (c.status === 'listed' ? ' listing' : ''), dataset: { target: c.target, zone: c.zone, status: c.status } },
      h('td', { class: 'key' + (c.status === 'listed' ? ' sev-critical' : '') }, c.target),
      h('td', {}, c.zone),
      h('td', { class: c.status === 'listed' ? 'st-critical' : c.status === 'clean' ? 'st-ok' : 'st-low', title: c.last_error || null }, c.status),
      h('td', {}, c.since || '–'), h('td', {}, ago(c.checked)),
      h('td', {}, c.return_code || ''), h('td', {}, c.meaning || c.txt || (c.status === 'unknown' && c.last_error) || '')))) : null);
}
