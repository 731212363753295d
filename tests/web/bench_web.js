// bench_web.js — `make bench-web`: tests/web/bench_core.c natively (the
// build's own kernels, and the generic ones: DSHQ_RL_ISA=generic), as wasm
// under node, and as wasm in headless chromium (the page web/bench.html
// served by `dshq serve`); one table with the wasm/native ratios.
// Never fails a build: a missing browser is reported and skipped.
'use strict';
const { execFileSync, spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const BUILD = process.argv[2] || 'build';
const ROOT = path.resolve(__dirname, '../..');
const parse = (text) => {
  const r = {};
  for (const line of text.split('\n')) {
    const m = /^bench (\w+) ([\d.]+) (\S+)(?: \(([\d.]+) GB\/s\))?/.exec(line);
    if (m) r[m[1]] = { v: Number(m[2]), unit: m[3], gb: m[4] ? Number(m[4]) : null };
  }
  return r;
};

// One browser for all rounds; each round reloads the benchmark page.
async function chromiumOpen() {
  let chromium;
  try { ({ chromium } = require('playwright-core')); } catch (e) { return { skipped: 'no playwright-core (scripts/install-web-deps.sh)' }; }
  if (!fs.existsSync('/usr/bin/chromium')) return { skipped: 'no /usr/bin/chromium' };
  const srv = spawn(path.join(ROOT, BUILD, 'dshq'), ['serve', '--port', '0', '--quiet'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((res, rej) => {
    let out = '';
    srv.stdout.on('data', (d) => { out += d; const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(out); if (m) res(m[0]); });
    setTimeout(() => rej(new Error('no URL from dshq serve')), 10000);
  });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'dshq-bench-'));
  const ctx = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync'] });
  const page = ctx.pages()[0] || await ctx.newPage();
  return {
    run: async () => {
      await page.goto(url + 'bench.html');
      await page.waitForFunction(() => window.benchLines && window.benchLines.includes('bench done'), null, { timeout: 180000 });
      return (await page.evaluate(() => window.benchLines)).join('\n');
    },
    close: async () => { await ctx.close(); srv.kill('SIGTERM'); fs.rmSync(profile, { recursive: true, force: true }); },
  };
}

const median = (a) => { const b = a.filter((x) => Number.isFinite(x)).sort((x, y) => x - y); return b.length ? b[b.length >> 1] : NaN; };

(async () => {
  const ROUNDS = Number(process.env.BENCH_ROUNDS || 3);
  const native = path.join(ROOT, BUILD, 'web/bench_core');
  const builds = ['native', 'generic', 'node', 'chromium'];
  const runs = Object.fromEntries(builds.map((b) => [b, []]));
  const ch = await chromiumOpen().catch((e) => ({ skipped: String(e) }));
  // Rounds of native, native-generic, node, chromium back to back: a ratio
  // is taken within a round (the machine's load changes between rounds),
  // and the table gives the median over the rounds.
  for (let r = 0; r < ROUNDS; r++) {
    runs.native.push(parse(execFileSync(native, { encoding: 'utf8' })));
    runs.generic.push(parse(execFileSync(native, { encoding: 'utf8', env: Object.assign({}, process.env, { DSHQ_RL_ISA: 'generic' }) })));
    runs.node.push(parse(execFileSync('node', ['--no-experimental-fetch', path.join(ROOT, 'web/dist/bench.js')], { encoding: 'utf8' })));
    if (ch.run) runs.chromium.push(parse(await ch.run()));
  }
  if (ch.close) await ch.close();
  const rows = [['env', 'env steps/s', 0.5], ['lanes', 'chunks/s', 0.3], ['weights', 'publish+adopt/s', null], ['learner', 'MLP fwd+bwd samples/s', 0.3]];
  const val = (b, k) => median(runs[b].map((x) => x[k] ? x[k].v : NaN));
  const ratio = (b, k) => median(runs[b].map((x, i) => x[k] && runs.native[i] && runs.native[i][k] ? x[k].v / runs.native[i][k].v : NaN));
  const f = (x) => !Number.isFinite(x) ? '–' : x >= 100 ? x.toFixed(0) : x.toFixed(2);
  const fr = (x) => Number.isFinite(x) ? x.toFixed(2) + 'x' : '–';
  console.log(`bench-web: ${ROUNDS} rounds; medians of the values and of the per-round ratios; load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores`);
  console.log('measurement              native     native-generic  wasm-node   wasm-chromium  node/native  chromium/native  target');
  for (const [k, label, target] of rows) {
    console.log(`${label.padEnd(24)} ${f(val('native', k)).padStart(10)} ${f(val('generic', k)).padStart(14)} ${f(val('node', k)).padStart(11)} ${f(val('chromium', k)).padStart(14)} ` +
      `${fr(ratio('node', k)).padStart(11)} ${fr(ratio('chromium', k)).padStart(16)}  ${target ? '>= ' + target + 'x' : ''}`);
  }
  const gb = (b) => f(median(runs[b].map((x) => x.lanes ? x.lanes.gb : NaN)));
  console.log(`lanes GB/s: native ${gb('native')}, node ${gb('node')}, chromium ${gb('chromium')}`);
  if (ch.skipped) console.log('chromium: skipped (' + ch.skipped + ')');
})().catch((e) => { console.log('bench-web: ' + e); process.exit(0); });
