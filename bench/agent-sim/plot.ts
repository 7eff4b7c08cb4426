/** The simulation's plot: nodes on each release over simulated time, one polyline per release (SVG). */
const COLORS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1'];

export interface Series { name: string; points: number[] }

export function svgPlot(title: string, hours: number[], series: Series[], yMax: number): string {
  const W = 800; const H = 420; const L = 60; const R = 150; const T = 40; const B = 50;
  const xMax = Math.max(...hours, 1);
  const x = (h: number): number => L + (h / xMax) * (W - L - R);
  const y = (v: number): number => T + (1 - v / Math.max(yMax, 1)) * (H - T - B);
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`, `<text x="${L}" y="22" font-size="15">${title}</text>`,
    `<line x1="${L}" y1="${y(0)}" x2="${W - R}" y2="${y(0)}" stroke="black"/>`, `<line x1="${L}" y1="${T}" x2="${L}" y2="${y(0)}" stroke="black"/>`];
  for (let h = 0; h <= xMax; h += Math.max(1, Math.round(xMax / 12))) {
    out.push(`<text x="${x(h)}" y="${y(0) + 18}" text-anchor="middle">${h}h</text>`);
  }
  for (let i = 0; i <= 4; i++) {
    const v = Math.round((yMax * i) / 4);
    out.push(`<text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${v}</text>`, `<line x1="${L}" y1="${y(v)}" x2="${W - R}" y2="${y(v)}" stroke="#ddd"/>`);
  }
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 10}" text-anchor="middle">simulated time</text>`);
  series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length]!;
    out.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${s.points.map((v, j) => `${x(hours[j]!).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"/>`);
    out.push(`<rect x="${W - R + 15}" y="${T + i * 20}" width="12" height="12" fill="${c}"/><text x="${W - R + 32}" y="${T + i * 20 + 11}">${s.name}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
