// checkpoint_test.js — .dshq checkpoints between the native build and the
// browser build (web/dist, under node), both ways:
//   native -> wasm: `dshq train` writes one; the wasm host reads its header,
//     plays it against the scripted baseline (web_eval) with the same
//     episodes, seed and sampling as `dshq eval`, and gets the same wins,
//     draws and losses; it also loads it into a run whose show adopts it.
//   wasm -> native: a training in the wasm build (trainer and worker
//     threads) saves one; `dshq eval` reads it and its results equal the
//     wasm host's evaluation of the same file.
// Equal results need the same policy bit for bit (sampling follows the
// logits) and the same env; both builds are forced to the generic kernels
// (DSHQ_RL_ISA=generic natively; wasm SIMD is 4-wide like them).
// usage: node tests/web/checkpoint_test.js path/to/dshq
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { loadDshq, api, sleep } = require('./load.js');

const DSHQ = path.resolve(process.argv[2] || 'build/dshq');
let passed = 0, failed = 0;
function check(ok, what, detail) {
  if (ok) { passed++; console.log(`ok   ${what}`); }
  else { failed++; console.log(`FAIL ${what}${detail !== undefined ? ': ' + JSON.stringify(detail) : ''}`); }
}

const EPISODES = 40, SEED = 11;
function nativeEval(file) {
  const out = execFileSync(DSHQ, ['eval', file, '--vs', 'scripted', '--episodes', String(EPISODES), '--seed', String(SEED)],
    { env: Object.assign({}, process.env, { DSHQ_RL_ISA: 'generic' }), encoding: 'utf8' });
  const m = /wins (\d+) .*draws (\d+) .*losses (\d+)/.exec(out);
  return m ? { wins: +m[1], draws: +m[2], losses: +m[3] } : { out };
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dshq-ckpt-'));
  const killer = setTimeout(() => { console.log('FAIL ran past 180 s'); console.log(`${passed} passed, ${failed + 1} failed`); process.exit(1); }, 180000);
  try {
    const M = await loadDshq();
    const A = api(M);
    const RL_OPP_SCRIPTED = 1;

    // native -> wasm
    const run = `webck${process.pid}`;
    execFileSync(DSHQ, ['train', '--run', run, '--updates', '3', '--workers', '1', '--envs', '16', '--horizon', '32',
      '--quiet', '--checkpoint-dir', tmp], { stdio: ['ignore', 'ignore', 'inherit'] });
    const nfile = path.join(tmp, `${run}.dshq`);
    check(fs.existsSync(nfile), 'native: dshq train wrote a checkpoint');
    M.FS.writeFile('/native.dshq', fs.readFileSync(nfile));
    const info = JSON.parse(A.info('/native.dshq') || 'null');
    check(info && info.updates === 3 && /^mlp-28-/.test(info.arch), 'wasm: reads the native header', info);
    const we = A.evaluate('/native.dshq', RL_OPP_SCRIPTED, EPISODES, 0, SEED);
    const ne = nativeEval(nfile);
    check(we.rc === 0 && we.wins === ne.wins && we.draws === ne.draws && we.losses === ne.losses,
      'native -> wasm: same wins/draws/losses as dshq eval', { wasm: we, native: ne });
    check(A.play('/native.dshq') === 0, 'wasm: the show loads the native checkpoint', A.error());
    A.frame();
    const st = A.showState();
    check(st[24] === 1 && st[15] === info.version, 'wasm: the show plays its version', [st[24], st[15], info.version]);

    // wasm -> native
    const rc = A.train('workers = 1\nenvs = 16\nhorizon = 32\nupdates = 4\nseconds = 0\n', '', '/web.dshq', 600);
    check(rc === 0, 'wasm: a training starts', A.error());
    const end = Date.now() + 120000;
    while (A.running() && Date.now() < end) await sleep(100);
    check(A.running() === 0 && A.trainerRc() === 0, 'wasm: the training ends cleanly');
    const wfile = path.join(tmp, 'web.dshq');
    fs.writeFileSync(wfile, M.FS.readFile('/web.dshq'));
    const ne2 = nativeEval(wfile);
    const we2 = A.evaluate('/web.dshq', RL_OPP_SCRIPTED, EPISODES, 0, SEED);
    check(ne2.wins !== undefined && ne2.wins + ne2.draws + ne2.losses === EPISODES, 'wasm -> native: dshq eval reads it', ne2);
    check(we2.rc === 0 && we2.wins === ne2.wins && we2.draws === ne2.draws && we2.losses === ne2.losses,
      'wasm -> native: same wins/draws/losses in both builds', { wasm: we2, native: ne2 });
    const out = execFileSync(DSHQ, ['eval', wfile, '--episodes', '2'], { encoding: 'utf8' });
    check(/4 updates/.test(out) && /envs = 16/.test(out), 'wasm -> native: its counters and settings', out.split('\n').slice(0, 4));

    // Resume in the wasm build from the native checkpoint: its counters and
    // version numbers continue.
    check(A.train('workers = 1\nenvs = 16\nhorizon = 32\nupdates = 2\nseconds = 0\n', '/native.dshq', '/resumed.dshq', 600) === 0,
      'wasm: resumes from the native checkpoint', A.error());
    const end2 = Date.now() + 120000;
    while (A.running() && Date.now() < end2) await sleep(100);
    const rinfo = JSON.parse(A.info('/resumed.dshq') || 'null');
    check(A.trainerRc() === 0 && rinfo && rinfo.updates === info.updates + 2 && rinfo.version === info.version + 2,
      'wasm: the resumed run continues the updates and versions', { before: info, after: rinfo });

    // Untrusted input: a damaged file and bad settings are refused with a
    // reason, nothing crashes, the module keeps working.
    const bytes = Buffer.from(M.FS.readFile('/web.dshq'));
    bytes[bytes.length - 100] ^= 0x40;
    M.FS.writeFile('/bad.dshq', bytes);
    check(A.play('/bad.dshq') !== 0 && /CRC|damaged/i.test(A.error()), 'refuses a damaged checkpoint', A.error());
    M.FS.writeFile('/short.dshq', bytes.subarray(0, 100));
    check(!A.info('/short.dshq') && /truncated/.test(A.error()), 'refuses a truncated checkpoint', A.error());
    check(A.train('workers = 0\n', '', '', 0) !== 0 && /workers/.test(A.error()), 'refuses bad settings with the key', A.error());
    check(A.train('no-such-key = 1\n', '', '', 0) !== 0 && /no-such-key/.test(A.error()), 'refuses an unknown key', A.error());
    check(A.ctlSet(1, 5) !== 0, 'ctl: no training, refused');
    check(A.play('/web.dshq') === 0, 'still plays a good checkpoint afterwards', A.error());
    check(M._web_main_thread_waits() === 0, 'the main thread never waited on an atomic', M._web_main_thread_waits());
  } catch (e) {
    check(false, 'test ran to the end', String(e && e.stack || e));
  } finally {
    clearTimeout(killer);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main();
