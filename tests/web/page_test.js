// page_test.js — the page in Debian's headless chromium, driven by
// playwright-core (launched on /usr/bin/chromium: nothing downloads a
// browser), served by `dshq serve`.
//
// Checks: the server's isolation headers and wasm MIME type; the page is
// crossOriginIsolated; Train starts a training whose steps and weights
// version rise (over about 20 s) and the show adopts at least 2 versions;
// the show's pause and reset act; pausing training through the mailbox
// acts; Stop saves a checkpoint into OPFS, which loads again and plays; a
// page served without the headers says it cannot run instead of failing.
// Saves build/web/page.png.  Every wait has a deadline; the whole test is
// bounded (DSHQ_WEB_TEST_TIMEOUT_S, default 240 s) and stops by itself.
//
// usage: node tests/web/page_test.js [path/to/dshq] [screenshot.png]
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '../..');
const DSHQ = path.resolve(process.argv[2] || path.join(ROOT, 'build/dshq'));
const SHOT = path.resolve(process.argv[3] || path.join(ROOT, 'build/web/page.png'));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const LIMIT_S = Number(process.env.DSHQ_WEB_TEST_TIMEOUT_S || 240);
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
               '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let passed = 0, failed = 0;
function check(ok, what, detail) {
  if (ok) { passed++; console.log(`ok   ${what}`); }
  else { failed++; console.log(`FAIL ${what}${detail !== undefined ? ': ' + JSON.stringify(detail) : ''}`); }
  return ok;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls fn until it returns a truthy value or deadline_s passes.
async function until(fn, deadlineS, stepMs = 250) {
  const end = Date.now() + deadlineS * 1000;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) return v;
    await sleep(stepMs);
  }
}

function get(url) {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => { res.resume(); res.on('end', () => resolve(res)); }).on('error', reject);
  });
}

function startServer() {
  return new Promise((resolve, reject) => {
    const p = spawn(DSHQ, ['serve', '--port', '0', '--quiet'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const t = setTimeout(() => reject(new Error('dshq serve printed no URL')), 15000);
    p.stdout.on('data', (d) => {
      out += d;
      const m = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
      if (m) { clearTimeout(t); resolve({ proc: p, url: m[0] }); }
    });
    p.on('exit', (code) => reject(new Error('dshq serve exited ' + code)));
  });
}

// A server of the same files without the isolation headers.
function plainServer() {
  return new Promise((resolve) => {
    const srv = http.createServer((req, res) => {
      const rel = req.url === '/' ? '/index.html' : req.url.split('?')[0];
      const file = path.join(ROOT, 'web', path.normalize(rel));
      if (!file.startsWith(path.join(ROOT, 'web')) || !fs.existsSync(file)) { res.writeHead(404); res.end(); return; }
      const type = file.endsWith('.js') ? 'text/javascript' : file.endsWith('.wasm') ? 'application/wasm' : 'text/html';
      res.writeHead(200, { 'Content-Type': type });
      fs.createReadStream(file).pipe(res);
    });
    srv.listen(0, '127.0.0.1', () => resolve(srv));
  });
}

async function main() {
  const { chromium } = require('playwright-core');
  const server = await startServer();
  const cleanup = [() => server.proc.kill('SIGTERM')];
  const killer = setTimeout(() => {
    console.log(`FAIL the test ran past ${LIMIT_S} s; stopping`);
    for (const f of cleanup) try { f(); } catch (e) { /* best effort */ }
    console.log(`${passed} passed, ${failed + 1} failed`);
    process.exit(1);
  }, LIMIT_S * 1000);
  let ctx;
  try {
    // Headers, from the server itself.
    const page0 = await get(server.url);
    check(page0.headers['cross-origin-opener-policy'] === 'same-origin' &&
          page0.headers['cross-origin-embedder-policy'] === 'require-corp' &&
          page0.headers['cross-origin-resource-policy'] === 'same-origin', 'serve: COOP/COEP/CORP headers', page0.headers);
    const wasm = await get(server.url + 'dist/dshq.wasm');
    check(wasm.statusCode === 200 && wasm.headers['content-type'] === 'application/wasm', 'serve: dshq.wasm as application/wasm', [wasm.statusCode, wasm.headers['content-type']]);
    const dots = await get(server.url + '../Makefile');
    check(dots.statusCode === 404, 'serve: nothing outside web/', dots.statusCode);

    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'dshq-chromium-'));
    cleanup.push(() => fs.rmSync(profile, { recursive: true, force: true }));
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1400, height: 900 },
    });
    cleanup.push(() => ctx.close());
    const page = ctx.pages()[0] || await ctx.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await page.goto(server.url);
    check(await page.evaluate(() => self.crossOriginIsolated), 'page: crossOriginIsolated');
    const ready = await until(() => page.evaluate(() => !!(window.dshq && window.dshq.ready)), 60);
    if (!check(ready, 'page: the C core loaded', errors)) throw new Error('page not ready');

    // The show runs before any training (untrained policy).
    const tick0 = await page.evaluate(() => window.dshq.show[14]);
    check(await until(() => page.evaluate((t) => window.dshq.show[14] !== t, tick0), 10), 'show: the match advances');

    // Train; over about 20 s steps and the weights version rise, and the
    // show adopts new versions.
    await page.click('#train');
    const first = await until(() => page.evaluate(() => {
      const m = window.dshq.m; return m && m.weights_version >= 1 && m.steps > 0 ? { s: m.steps, v: m.weights_version } : null;
    }), 60);
    check(first, 'train: telemetry shows a first version and steps', first);
    await sleep(20000);
    const later = await page.evaluate(() => ({ s: window.dshq.m.steps, v: window.dshq.m.weights_version, sps: window.dshq.m.steps_per_s }));
    check(first && later.s > first.s, 'train: steps rise', [first, later]);
    check(first && later.v > first.v, 'train: weights version rises', [first, later]);
    const swaps = await until(() => page.evaluate(() => window.dshq.show[16] >= 2 ? window.dshq.show[16] : 0), 30);
    check(swaps >= 2, 'show: adopted at least 2 versions', swaps);
    console.log(`     (steps/s ${later.sps && later.sps.toFixed(0)}, version ${later.v}, show swaps ${swaps})`);

    // The show's pause and reset.
    await page.click('#play');
    await sleep(200);
    const p1 = await page.evaluate(() => window.dshq.show[14]);
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    await sleep(300);
    const p2 = await page.evaluate(() => window.dshq.show[14]);
    check(p1 === p2 && (await page.evaluate(() => window.dshq.show[21])) === 1, 'show: pause holds the match', [p1, p2]);
    await page.click('#reset');
    const reset = await until(() => page.evaluate(() => window.dshq.show[14] === 0 && window.dshq.show[12] === 0 && window.dshq.show[13] === 0), 5);
    check(reset, 'show: reset restarts the match (tick 0, 0:0)');
    await page.click('#play');
    check(await until(() => page.evaluate(() => window.dshq.show[14] > 0), 10), 'show: play resumes it');
    // Poke: drag the ball somewhere with the mouse.
    await page.click('#play');
    const box = await page.locator('#field').boundingBox();
    const ballPx = await page.evaluate(() => {
      const cv = document.getElementById('field'), s = Math.min(cv.width / 23, cv.height / 13);
      const r = cv.getBoundingClientRect();
      return [r.left + (cv.width / 2 + window.dshq.show[0] * s) * r.width / cv.width,
              r.top + (cv.height / 2 - window.dshq.show[1] * s) * r.height / cv.height];
    });
    await page.mouse.move(ballPx[0], ballPx[1]);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.25, box.y + box.height * 0.3, { steps: 5 });
    await page.mouse.up();
    const moved = await until(() => page.evaluate(() => window.dshq.show[0] < -3 && window.dshq.show[1] > 1 ? [window.dshq.show[0], window.dshq.show[1]] : null), 5);
    check(moved, 'show: dragging moves the ball', moved);
    await page.click('#play');

    // Keyboard: take the left player; holding W moves it, letting go stops
    // it (the policy no longer drives it).
    await page.click('#field');
    await page.keyboard.press('1');
    check(await until(() => page.evaluate(() => window.dshq.show[22] === 1), 5), 'keys: 1 takes the left player');
    const at0 = await page.evaluate(() => [window.dshq.show[4], window.dshq.show[5]]);
    await page.keyboard.down('w');
    const walked = await until(() => page.evaluate((a) => Math.hypot(window.dshq.show[4] - a[0], window.dshq.show[5] - a[1]) > 1, at0), 10, 100);
    await page.keyboard.up('w');
    check(walked, 'keys: holding W moves the player');
    await page.keyboard.press('1');
    check(await until(() => page.evaluate(() => window.dshq.show[22] === 0), 5), 'keys: 1 again gives it back');

    // A hyperparameter changed while it runs reaches the trainer.
    await page.evaluate(() => { document.getElementById('ctl').open = true; });
    const lrInput = page.locator('#ctlform label').first().locator('input');
    await lrInput.fill('0.0005');
    await page.locator('#ctlform label').first().locator('button').click();
    check(await until(() => page.evaluate(() => Math.abs(window.dshq.m.learning_rate - 0.0005) < 1e-7), 20), 'ctl: learning rate set while it runs');

    // Training pause through the mailbox.
    await page.click('#tpause');
    check(await until(() => page.evaluate(() => window.dshq.m.paused === 1), 15), 'train: pause reaches the trainer');
    await page.click('#tpause');
    check(await until(() => page.evaluate(() => window.dshq.m.paused === 0), 15), 'train: resume reaches the trainer');

    fs.mkdirSync(path.dirname(SHOT), { recursive: true });
    await page.screenshot({ path: SHOT });
    console.log(`     screenshot: ${path.relative(process.cwd(), SHOT)}`);

    // Stop: the trainer saves, the page stores it in OPFS; it loads again.
    const vStop = await page.evaluate(() => window.dshq.m.weights_version);
    await page.click('#train');
    const done = await until(() => page.evaluate(() => !window.dshq.training), 60);
    check(done, 'train: Stop ends every role');
    const stored = await until(() => page.evaluate(() => (window.dshq.checkpoints || []).includes(window.dshq.runName) ? window.dshq.runName : null), 20);
    check(stored, 'checkpoint: saved into OPFS on Stop', stored);
    const opfs = await page.evaluate(async (name) => {
      const f = await (await (await navigator.storage.getDirectory()).getFileHandle(name)).getFile();
      const b = new Uint8Array(await f.slice(0, 8).arrayBuffer());
      return { size: f.size, magic: String.fromCharCode(...b) };
    }, stored);
    check(opfs.magic === 'DSHQCKPT' && opfs.size > 1000, 'checkpoint: the OPFS file is a .dshq', opfs);
    const rc = await page.evaluate((name) => window.dshqLoad(name), stored);
    check(rc === 0, 'checkpoint: loads again from OPFS', rc);
    const playing = await until(() => page.evaluate(() => window.dshq.show[24] === 1 ? window.dshq.show[15] : 0), 10);
    check(playing >= vStop, 'checkpoint: the show plays its policy (version)', [playing, vStop]);
    check(errors.length === 0, 'page: no errors in the console', errors);
    const waits = await page.evaluate(() => window.dshq.M._web_main_thread_waits());
    check(waits === 0, 'page: the main thread never waited on an atomic', waits);
    await ctx.close();
    cleanup.pop();

    // Without the headers: the page says so.
    const plain = await plainServer();
    cleanup.push(() => plain.close());
    const profile2 = fs.mkdtempSync(path.join(os.tmpdir(), 'dshq-chromium-'));
    cleanup.push(() => fs.rmSync(profile2, { recursive: true, force: true }));
    const ctx2 = await chromium.launchPersistentContext(profile2, { executablePath: CHROMIUM, headless: true, args: FLAGS });
    cleanup.push(() => ctx2.close());
    const p = ctx2.pages()[0] || await ctx2.newPage();
    await p.goto(`http://127.0.0.1:${plain.address().port}/`);
    const told = await until(() => p.evaluate(() => {
      const b = document.getElementById('blocked');
      return !b.hidden && /cross-origin isolated/.test(b.textContent) && /dshq serve/.test(b.textContent) ? b.textContent : null;
    }), 15);
    check(told, 'page: without COOP/COEP it says so and what to do', told);
  } catch (e) {
    check(false, 'test ran to the end', String(e && e.stack || e));
  } finally {
    clearTimeout(killer);
    for (const f of cleanup.reverse()) try { await f(); } catch (e) { /* best effort */ }
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main();
