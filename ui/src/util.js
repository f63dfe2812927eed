// util.js — what every view of the UI shares: building elements, number
// formats, and the API call with the viewer's token.
export const TOKEN_KEY = 'mailpulse.token';

export function h(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of kids.flat()) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
}
export const pct = (x) => (x === null || x === undefined || Number.isNaN(x) ? '–' : (x * 100).toFixed(x < 0.01 ? 3 : 2) + '%');
export const enc = encodeURIComponent;
export const token = () => sessionStorage.getItem(TOKEN_KEY) || '';

export class ApiError extends Error {
  constructor(status, msg) { super(msg); this.status = status; }
}

export async function api(path, opts = {}) {
  const headers = { ...(token() ? { Authorization: 'Bearer ' + token() } : {}), ...(opts.headers || {}) };
  const r = await fetch(path, { ...opts, headers });
  const text = await r.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = null; }
  if (!r.ok) throw new ApiError(r.status, (body && body.error) || text || r.statusText);
  return body;
}
