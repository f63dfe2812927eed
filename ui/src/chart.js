// chart.js — one rule's rate over time (uPlot) with its warning and
// critical lines, and the alert's past on the time axis from
// GET /v1/tenants/T/alerts/history: fired (red), severity changed
// (orange), resolved (green), silenced (grey, dashed) as vertical marks,
// and the time a matching silence was in force as a grey band.
import uPlot from 'uplot';
import { h, pct } from './util.js';

export const stepSecs = (st) => ({ '5m': 300, '1h': 3600, '1d': 86400 }[st] || 0);
const MARK = { fired: '#c62828', severity: '#d98a00', resolved: '#2a9d55', silenced: '#777' };

// The marks and bands of one rule's alert in a history answer: entries of
// alertname, and the silences that match their alerts' fingerprints.
export function historyOf(hist, alertname) {
  if (!hist || hist instanceof Error) return { marks: [], bands: [] };
  const mine = hist.entries.filter((e) => e.alert.labels.alertname === alertname);
  const fps = new Set(mine.map((e) => e.alert.fingerprint));
  const marks = mine.map((e) => ({ t: Date.parse(e.at) / 1000, event: e.event, severity: e.alert.labels.severity }));
  const bands = (hist.silences || []).filter((s) => s.fingerprints.some((f) => fps.has(f)))
    .map((s) => ({ from: Date.parse(s.startsAt) / 1000, to: Date.parse(s.endsAt) / 1000, id: s.id }));
  return { marks, bands };
}

// Draws the marks and bands on u's canvas; counts per kind into el.dataset.
function drawHistory(u, el, hist, step) {
  const ctx = u.ctx, { left, top, width, height } = u.bbox;
  const lo = u.scales.x.min, hi = u.scales.x.max + stepSecs(step); // the last step's end
  const at = (t) => u.valToPos(Math.min(t, u.scales.x.max), 'x', true);
  const seen = { fired: 0, severity: 0, resolved: 0, silenced: 0 };
  let bands = 0;
  ctx.save();
  ctx.fillStyle = 'rgba(120,120,120,0.15)';
  for (const b of hist.bands) {
    if (b.to < lo || b.from >= hi) continue;
    const x0 = Math.max(left, at(Math.max(b.from, lo))), x1 = Math.min(left + width, at(Math.min(b.to, hi)));
    ctx.fillRect(x0, top, Math.max(2, x1 - x0), height);
    bands++;
  }
  ctx.lineWidth = 2;
  for (const m of hist.marks) {
    if (m.t < lo || m.t >= hi) continue;
    seen[m.event]++;
    ctx.strokeStyle = MARK[m.event] || '#000';
    ctx.setLineDash(m.event === 'silenced' ? [4, 3] : []);
    const x = at(m.t);
    ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + height); ctx.stroke();
  }
  ctx.restore();
  Object.assign(el.dataset, { alertMarks: String(seen.fired), historyFired: String(seen.fired),
    historySeverity: String(seen.severity), historyResolved: String(seen.resolved),
    historySilenced: String(seen.silenced), silenceBands: String(bands) });
}

// Draws (or updates) rule's chart in wrap; made maps rule names to their
// boxes across polls. Returns a new uPlot the caller destroys, or null.
export function drawChart(wrap, made, rule, s, hist) {
  const xs = s.points.map((p) => p.ts);
  const ys = s.points.map((p) => (p.rate === null ? null : p.rate));
  const warn = xs.map(() => rule.warning);
  const crit = xs.map(() => rule.critical);
  const [num, den] = [rule.numerator[0], rule.denominator[0]];
  const sums = s.points.reduce((a, p) => [a[0] + (p.counts[num] || 0), a[1] + (p.counts[den] || 0)], [0, 0]);
  let box = made.get(rule.name);
  if (!box) {
    box = { el: h('div', { class: 'chart', dataset: { rule: rule.name } }), plot: null };
    box.title = h('h3', {});
    box.el.append(box.title);
    wrap.append(box.el);
    made.set(rule.name, box);
  }
  box.hist = hist;
  box.title.textContent = `${rule.name}: ${num} / ${den} per ${s.step} (warning ${pct(rule.warning)}, critical ${pct(rule.critical)})`;
  Object.assign(box.el.dataset, { points: String(xs.length), sumNum: String(sums[0]), sumDen: String(sums[1]),
    warning: String(rule.warning), critical: String(rule.critical), step: s.step });
  const data = [xs, ys, warn, crit];
  if (box.plot) { box.plot.setData(data); return null; }
  const opts = {
    width: Math.min(1100, wrap.clientWidth || 900), height: 240,
    scales: { y: { range: (u, lo, hi) => [0, Math.max(hi, (rule.critical || 0) * 1.2, 0.001)] } },
    axes: [{}, { values: (u, v) => v.map((x) => (x * 100).toFixed(2) + '%'), size: 70 }],
    series: [{}, { label: 'rate', stroke: '#1f77b4', width: 2, points: { show: true, size: 5 }, spanGaps: false },
      { label: 'warning', stroke: '#d98a00', dash: [6, 4], points: { show: false } },
      { label: 'critical', stroke: '#c62828', dash: [6, 4], points: { show: false } }],
    hooks: { draw: [(u) => {
      // What the lines came out as, for people reading the DOM and the test.
      const ly = [rule.warning, rule.critical].map((v) => (v === null ? null : Math.round(u.valToPos(v, 'y'))));
      box.el.dataset.thresholdDrawn = '1';
      box.el.dataset.warningY = String(ly[0]);
      box.el.dataset.criticalY = String(ly[1]);
      drawHistory(u, box.el, box.hist, s.step);
    }] },
  };
  box.plot = new uPlot(opts, data, box.el);
  box.el.append(legend());
  return box.plot;
}

function legend() {
  return h('p', { class: 'legend muted' }, Object.entries(MARK).map(([k, c]) =>
    h('span', { class: 'mark', style: `border-color:${c}` }, k)), h('span', { class: 'band' }, 'silence in force'));
}
