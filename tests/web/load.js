// load.js — loads the browser build (web/dist/dshq.js) under node for the
// wasm tests: the same module the page runs, its threads as worker_threads.
'use strict';
const fs = require('fs');
const path = require('path');

const DIST = path.resolve(__dirname, '../../web/dist');

async function loadDshq(extra) {
  const createDshq = require(path.join(DIST, 'dshq.js'));
  // wasmBinary: no fetch() of a file path (node's fetch refuses those).
  const M = await createDshq(Object.assign({
    wasmBinary: fs.readFileSync(path.join(DIST, 'dshq.wasm')),
    print: (s) => process.stdout.write(s + '\n'),
    printErr: (s) => process.stderr.write(s + '\n'),
  }, extra || {}));
  return M;
}

function api(M) {
  const c = (name, ret, args) => M.cwrap(name, ret, args);
  return {
    error: c('web_error', 'string', []),
    idle: c('web_idle', 'number', ['string', 'number']),
    train: c('web_train', 'number', ['string', 'string', 'string', 'number']),
    stop: c('web_stop', null, []),
    running: c('web_roles_running', 'number', []),
    trainerRc: c('web_trainer_rc', 'number', []),
    ctlPause: c('web_ctl_pause', 'number', ['number']),
    ctlSet: c('web_ctl_set', 'number', ['number', 'number']),
    play: c('web_play_checkpoint', 'number', ['string']),
    info: c('web_checkpoint_info', 'string', ['string']),
    frame: c('web_frame', null, []),
    input: c('web_show_input', null, ['number']),
    speed: c('web_show_speed', null, ['number']),
    showPause: c('web_show_pause', null, ['number']),
    poke: c('web_show_poke', null, ['number', 'number', 'number']),
    showState: () => {
      const p = M._web_show_state();
      return Array.from(M.HEAPF32.subarray(p >> 2, (p >> 2) + 32));
    },
    metrics: () => {
      const p = M._web_metrics();
      return Array.from(M.HEAPF64.subarray(p >> 3, (p >> 3) + 64));
    },
    metricNames: () => M.UTF8ToString(M._web_metrics_names()).split(','),
    configKeys: () => JSON.parse(M.UTF8ToString(M._web_config_keys())),
    configText: () => M.UTF8ToString(M._web_config_text()),
    evaluate: (file, opp, episodes, greedy, seed) => {
      const out = M._malloc(32);
      const rc = M.ccall('web_eval', 'number', ['string', 'number', 'number', 'number', 'number', 'number'],
        [file, opp, episodes, greedy, seed, out]);
      const r = Array.from(M.HEAPF64.subarray(out >> 3, (out >> 3) + 4));
      M._free(out);
      return { rc, wins: r[0], draws: r[1], losses: r[2], len: r[3] };
    },
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

module.exports = { loadDshq, api, sleep, DIST };
