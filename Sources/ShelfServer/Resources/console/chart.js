// Sync-lag percentiles from the Prometheus histogram `shelf_sync_lag_seconds` (per connection), and a small SVG chart.
// The console keeps cumulative bucket snapshots as it polls /metrics; a percentile over a window is read from the
// difference of two snapshots, so it describes only the pushes acknowledged in that window.

const SVG = 'http://www.w3.org/2000/svg';

/** Parses Prometheus text into [{name, labels, value}]. */
export function parseMetrics(text) {
  const samples = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const match = /^([A-Za-z_:][A-Za-z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels = {};
    if (match[3]) {
      const re = /([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
      let m;
      while ((m = re.exec(match[3])) !== null) labels[m[1]] = m[2].replace(/\\(.)/g, '$1');
    }
    const value = match[4] === '+Inf' ? Infinity : Number(match[4]);
    samples.push({ name: match[1], labels, value });
  }
  return samples;
}

/** {connection: [[le, cumulativeCount], ...] sorted by le} for one histogram. */
export function histogramBuckets(samples, name) {
  const byConnection = {};
  for (const s of samples) {
    if (s.name !== `${name}_bucket` || s.labels.connection === undefined) continue;
    const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
    (byConnection[s.labels.connection] ||= []).push([le, s.value]);
  }
  for (const list of Object.values(byConnection)) list.sort((a, b) => a[0] - b[0]);
  return byConnection;
}

/** The q-quantile (seconds) of the observations between two cumulative bucket lists; null when there were none. */
export function quantile(newer, older, q) {
  if (!newer || newer.length === 0) return null;
  const counts = newer.map(([le, n], i) => [le, n - (older && older[i] ? older[i][1] : 0)]);
  const total = counts[counts.length - 1][1];
  if (!(total > 0)) return null;
  const target = q * total;
  let previousLe = 0;
  let previousCount = 0;
  for (const [le, cumulative] of counts) {
    if (cumulative >= target) {
      if (le === Infinity) return previousLe;
      const share = cumulative === previousCount ? 1 : (target - previousCount) / (cumulative - previousCount);
      return previousLe + (le - previousLe) * share;
    }
    previousLe = le;
    previousCount = cumulative;
  }
  return previousLe;
}

export function observations(newer, older) {
  if (!newer || newer.length === 0) return 0;
  return newer[newer.length - 1][1] - (older && older[newer.length - 1] ? older[newer.length - 1][1] : 0);
}

/** Keeps snapshots for `keepMs` and answers p50/p99 series per connection. */
export class LagHistory {
  constructor({ keepMs = 10 * 60_000, stepWindowMs = 60_000 } = {}) {
    this.keepMs = keepMs;
    this.stepWindowMs = stepWindowMs;
    this.snapshots = []; // [{t, buckets: {connection: [[le, n]]}}]
  }

  add(t, metricsText) {
    const buckets = histogramBuckets(parseMetrics(metricsText), 'shelf_sync_lag_seconds');
    this.snapshots.push({ t, buckets });
    while (this.snapshots.length > 2 && this.snapshots[0].t < t - this.keepMs) this.snapshots.shift();
  }

  /** The newest snapshot at or before `t` (the oldest one when none is that old). */
  at(t) {
    let found = this.snapshots[0];
    for (const s of this.snapshots) {
      if (s.t <= t) found = s; else break;
    }
    return found;
  }

  /** How long this page has watched (at least 15 s, at most what it keeps): the chart's time span. */
  span(now = Date.now()) {
    const first = this.snapshots[0];
    return Math.min(this.keepMs, Math.max(15_000, first ? now - first.t + 2000 : 0));
  }

  /** {p50, p99 (ms), count, windowMs} over the last `windowMs` (as far back as this page has watched). */
  summary(connection, windowMs = 5 * 60_000) {
    const latest = this.snapshots[this.snapshots.length - 1];
    if (!latest) return { p50: null, p99: null, count: 0, windowMs: 0 };
    const base = this.at(latest.t - windowMs);
    const newer = latest.buckets[connection];
    const older = base === latest ? null : base.buckets[connection];
    const ms = (v) => (v === null ? null : v * 1000);
    return {
      p50: ms(quantile(newer, older, 0.5)), p99: ms(quantile(newer, older, 0.99)),
      count: observations(newer, older), windowMs: base === latest ? 0 : latest.t - base.t, sinceStart: base === latest,
    };
  }

  /** [{t, p50, p99}] (ms, null where no push was acknowledged) over trailing `stepWindowMs` windows. */
  series(connection) {
    const out = [];
    for (let i = 0; i < this.snapshots.length; i += 1) {
      const s = this.snapshots[i];
      const base = this.at(s.t - this.stepWindowMs);
      // The first snapshot has nothing older: it stands for every push since the server started.
      const older = i === 0 ? { buckets: {} } : base === s ? this.snapshots[i - 1] : base;
      const p50 = quantile(s.buckets[connection], older.buckets[connection], 0.5);
      const p99 = quantile(s.buckets[connection], older.buckets[connection], 0.99);
      out.push({ t: s.t, p50: p50 === null ? null : p50 * 1000, p99: p99 === null ? null : p99 * 1000 });
    }
    return out;
  }
}

export function formatMs(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '—';
  if (ms < 1) return '<1 ms';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

/** An inline SVG of p50 (solid) and p99 (dashed) over time, with a text alternative. */
export function lagChart(series, { width = 160, height = 40, spanMs = 10 * 60_000, now = Date.now(), label = 'Sync lag' } = {}) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('preserveAspectRatio', 'none');
  const points = series.filter((p) => p.t >= now - spanMs);
  const max = Math.max(10, ...points.map((p) => p.p99 ?? 0), ...points.map((p) => p.p50 ?? 0));
  const title = document.createElementNS(SVG, 'title');
  const last = [...points].reverse().find((p) => p.p50 !== null);
  title.textContent = last
    ? `${label}: p50 ${formatMs(last.p50)}, p99 ${formatMs(last.p99)} over the last minute; chart scale 0–${formatMs(max)}`
    : `${label}: no pushes acknowledged in the last ${formatMs(spanMs)}`;
  svg.append(title);
  const x = (t) => ((t - (now - spanMs)) / spanMs) * (width - 6) + 3;
  const y = (v) => height - 2 - (v / max) * (height - 4);
  for (const key of ['p99', 'p50']) {
    let segment = [];
    const flush = () => {
      if (segment.length === 1) segment.push([segment[0][0] + 1.5, segment[0][1]]);
      if (segment.length > 1) {
        const line = document.createElementNS(SVG, 'polyline');
        line.setAttribute('points', segment.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join(' '));
        line.setAttribute('fill', 'none');
        line.setAttribute('stroke-width', '1.5');
        line.setAttribute('class', key);
        svg.append(line);
      }
      segment = [];
    };
    for (const p of points) {
      if (p[key] === null) flush(); else segment.push([x(p.t), y(p[key])]);
    }
    flush();
  }
  // A dot on each point that has no neighbour to draw a line to.
  for (const key of ['p99', 'p50']) {
    points.forEach((p, i) => {
      const lonely = p[key] !== null && (points[i - 1]?.[key] ?? null) === null && (points[i + 1]?.[key] ?? null) === null;
      if (!lonely) return;
      const dot = document.createElementNS(SVG, 'circle');
      dot.setAttribute('cx', x(p.t).toFixed(1));
      dot.setAttribute('cy', y(p[key]).toFixed(1));
      dot.setAttribute('r', '2');
      dot.setAttribute('class', `${key} dot`);
      svg.append(dot);
    });
  }
  return svg;
}
