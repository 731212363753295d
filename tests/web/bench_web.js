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

async function chromiumRun() {
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
  try {
    const page = ctx.pages()[0] || await ctx.newPage();
    await page.goto(url + 'bench.html');
    await page.waitForFunction(() => window.benchLines && window.benchLines.includes('bench done'), null, { timeout: 120000 });
    return { text: (await page.evaluate(() => window.benchLines)).join('\n') };
  } finally {
    await ctx.close();
    srv.kill('SIGTERM');
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

(async () => {
  const native = path.join(ROOT, BUILD, 'web/bench_core');
  const runs = {};
  runs.native = parse(execFileSync(native, { encoding: 'utf8' }));
  runs.generic = parse(execFileSync(native, { encoding: 'utf8', env: Object.assign({}, process.env, { DSHQ_RL_ISA: 'generic' }) }));
  runs.node = parse(execFileSync('node', ['--no-experimental-fetch', path.join(ROOT, 'web/dist/bench.js')], { encoding: 'utf8' }));
  const ch = await chromiumRun().catch((e) => ({ skipped: String(e) }));
  if (ch.text) runs.chromium = parse(ch.text);
  const rows = [['env', 'env steps/s', 0.5], ['lanes', 'chunks/s', 0.3], ['weights', 'publish+adopt/s', null], ['learner', 'MLP fwd+bwd samples/s', 0.3]];
  const f = (x) => x === undefined ? '–' : x.v >= 100 ? x.v.toFixed(0) : x.v.toFixed(2);
  console.log('measurement              native     native-generic  wasm-node   wasm-chromium  node/native  chromium/native  target');
  for (const [k, label, target] of rows) {
    const n = runs.native[k], c = runs.chromium && runs.chromium[k], o = runs.node[k];
    const ratio = (x) => x && n ? (x.v / n.v).toFixed(2) + 'x' : '–';
    console.log(`${label.padEnd(24)} ${f(n).padStart(10)} ${f(runs.generic[k]).padStart(14)} ${f(o).padStart(11)} ${f(c).padStart(14)} ` +
      `${ratio(o).padStart(11)} ${ratio(c).padStart(16)}  ${target ? '>= ' + target + 'x' : ''}`);
  }
  if (runs.native.lanes) console.log(`lanes GB/s: native ${runs.native.lanes.gb}, node ${runs.node.lanes && runs.node.lanes.gb}, chromium ${runs.chromium && runs.chromium.lanes ? runs.chromium.lanes.gb : '–'}`);
  if (ch.skipped) console.log('chromium: skipped (' + ch.skipped + ')');
})().catch((e) => { console.log('bench-web: ' + e); process.exit(0); });
