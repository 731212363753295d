// learn_browser.js — the learning-in-the-browser measurement (not a test):
// the page's defaults, Train, then every 15 s the win/draw/loss rates
// against the scripted opponent (the page's learning curve) for
// DSHQ_LEARN_S seconds (default 300); prints the curve as lines and saves a
// screenshot.  usage: node tests/web/learn_browser.js URL [shot.png]
'use strict';
const { chromium } = require('playwright-core');
const fs = require('fs');
const os = require('os');
const path = require('path');
const url = process.argv[2];
const shot = process.argv[3] || 'build/web/learn.png';
const LIMIT = Number(process.env.DSHQ_LEARN_S || 300);
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
               '--disable-background-networking', '--disable-component-update', '--disable-sync'];
(async () => {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'dshq-learn-'));
  const ctx = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', headless: true, args: FLAGS, viewport: { width: 1400, height: 760 } });
  const page = ctx.pages()[0] || await ctx.newPage();
  await page.goto(url);
  await page.waitForFunction(() => window.dshq && window.dshq.ready, null, { timeout: 60000 });
  await page.click('#train');
  const t0 = Date.now();
  let best = 0;
  while ((Date.now() - t0) / 1000 < LIMIT) {
    await new Promise((r) => setTimeout(r, 15000));
    const r = await page.evaluate(() => {
      const S = window.dshq, c = S.curve[S.curve.length - 1] || {};
      return { t: S.m.wall_s, steps: S.m.steps, v: S.m.weights_version, sps: S.m.steps_per_s, score: S.m.score_ema, win: c.win, draw: c.draw, loss: c.loss, n: c.n };
    });
    if (r.win > best) best = r.win;
    console.log(`t ${r.t.toFixed(0)} s  steps ${r.steps}  v ${r.v}  steps/s ${r.sps.toFixed(0)}  ` +
      `window: win ${(100 * r.win).toFixed(0)}% draw ${(100 * r.draw).toFixed(0)}% loss ${(100 * r.loss).toFixed(0)}% (${r.n} episodes)  score_ema ${(100 * r.score).toFixed(0)}%`);
  }
  await page.screenshot({ path: shot });
  const curve = await page.evaluate(() => window.dshq.curve);
  fs.writeFileSync(shot.replace(/\.png$/, '.json'), JSON.stringify(curve));
  console.log(`best window win rate ${(100 * best).toFixed(0)}%`);
  await ctx.close();
  fs.rmSync(profile, { recursive: true, force: true });
  process.exit(0);
})();
