// Inline SVG curve of PSNR against scale count, and canvas histograms of code usage.

import { binHistogram, curvePoints, formatDb } from './logic';
import { cssVar, svg } from '../dom';

/** values[k] undefined: scale k is not decoded yet (no dot, and the line skips it). */
export function psnrCurve(values: readonly (number | undefined)[], selected: number, onPick: (k: number) => void): SVGSVGElement {
  const w = 280;
  const hgt = 120;
  const pad = 18;
  const root = svg('svg', { viewBox: `0 0 ${w} ${hgt}`, width: w, height: hgt, role: 'img', class: 'curve' });
  root.dataset.testid = 'psnr-curve';
  root.setAttribute('aria-label', `PSNR against number of scales: ${values.map((v, i) => `${i + 1}: ${formatDb(v)}`).join(', ')}`);
  const known = values.map((v, i) => ({ v, i })).filter((p): p is { v: number; i: number } => p.v !== undefined);
  const { points: all, min, max } = curvePoints(values.map((v) => v ?? NaN), w, hgt, pad); // NaN: outside the range
  const points = known.map((p) => ({ ...all[p.i], i: p.i }));
  root.append(svg('line', { x1: pad, y1: hgt - pad, x2: w - pad, y2: hgt - pad, class: 'axis' }));
  root.append(svg('line', { x1: pad, y1: pad, x2: pad, y2: hgt - pad, class: 'axis' }));
  const label = (x: number, y: number, text: string, anchor = 'start'): void => {
    const t = svg('text', { x, y, class: 'axis-label', 'text-anchor': anchor });
    t.textContent = text;
    root.append(t);
  };
  label(pad + 2, pad - 6, `${max.toFixed(1)} dB`);
  label(2, hgt - 4, `${min.toFixed(1)} dB`);
  label(w - pad, hgt - 4, `scales 1–${values.length}`, 'end');
  root.append(svg('polyline', { points: points.map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' '), class: 'curve-line' }));
  points.forEach(({ i, ...p }) => {
    const c = svg('circle', { cx: p.x, cy: p.y, r: i === selected ? 5 : 3, class: i === selected ? 'curve-dot selected' : 'curve-dot' });
    c.dataset.scale = String(i);
    const title = svg('title');
    title.textContent = `${i + 1} scale${i ? 's' : ''}: ${formatDb(values[i])}`;
    c.append(title);
    c.addEventListener('click', () => onPick(i));
    root.append(c);
  });
  return root;
}

export function histogramCanvas(histogram: readonly number[], testid: string, highlightCode: number | null, label: string): HTMLCanvasElement {
  const bins = Math.min(256, histogram.length);
  const data = binHistogram(histogram, bins);
  const w = 320;
  const hgt = 90;
  const c = document.createElement('canvas');
  c.width = w;
  c.height = hgt;
  c.dataset.testid = testid;
  c.className = 'histogram';
  c.setAttribute('role', 'img');
  const used = histogram.filter((x) => x > 0).length;
  c.setAttribute('aria-label', `${label}: ${used} of ${histogram.length} codes used`);
  const ctx = c.getContext('2d');
  if (!ctx) return c;
  const max = Math.max(1, ...data);
  const fg = cssVar('--vscode-charts-blue', '#3794ff');
  const hi = cssVar('--vscode-charts-orange', '#d18616');
  const axis = cssVar('--vscode-foreground', '#888');
  const bw = w / bins;
  ctx.fillStyle = fg;
  for (let i = 0; i < bins; i++) {
    const bh = Math.sqrt(data[i] / max) * (hgt - 4); // sqrt scale keeps rare codes visible
    if (data[i] > 0) ctx.fillRect(i * bw, hgt - Math.max(1, bh), Math.max(1, bw - (bw > 2 ? 0.5 : 0)), Math.max(1, bh));
  }
  if (highlightCode !== null && highlightCode >= 0 && highlightCode < histogram.length) {
    const bin = Math.floor((highlightCode * bins) / histogram.length);
    ctx.fillStyle = hi;
    ctx.fillRect(bin * bw, 0, Math.max(2, bw), hgt);
  }
  ctx.fillStyle = axis;
  ctx.globalAlpha = 0.5;
  ctx.fillRect(0, hgt - 1, w, 1);
  ctx.globalAlpha = 1;
  return c;
}
