// app.js — the DrillSergeantHQ page: one small program over the C core.
//
// The C core (web/dist/dshq.js + .wasm, built by `make web`) runs a training
// exactly as `dshq train` does, with its roles as threads (Web Workers) over
// the module's shared memory; the page only calls the web host's entry
// points (src/web/host.c).  State lives in `S`; the controls change it and
// call the host; three loops read it back:
//   - every animation frame: the show steps to now (web_frame) and is drawn;
//   - twice a second: telemetry into the panel, the learning curve's point;
//   - every few seconds: a new checkpoint file is copied into OPFS.
// Nothing here blocks: the main thread never waits on an atomic.
'use strict';

const IN = { PAUSE: 1, FASTER: 2, SLOWER: 3, RESET: 4, TAKE_LEFT: 5, TAKE_RIGHT: 6,
             UP: 7, DOWN: 8, LEFT: 9, RIGHT: 10, DASH: 11 };
const HPARAM = [ // DSHQ_HPARAM_* (mailbox.h): changed while it runs
  { id: 1, key: 'lr', label: 'learning rate' },
  { id: 2, key: 'ent-coef', label: 'entropy coef' },
  { id: 3, key: 'shaping', label: 'shaping' },
  { id: 4, key: 'clip', label: 'PPO clip' },
];
const FIELD = { hx: 10, hy: 6, goal: 2.5, depth: 1.5, ball: 0.3, player: 0.5 };
const LIVE_CKPT = '/ckpt/live.dshq';

const S = {
  M: null, A: null,            // the module and its wrapped calls
  training: false,             // roles running
  stopping: false,
  tpaused: false,              // training paused through the mailbox
  showPaused: false,
  human: 0,
  runName: '',                 // OPFS file name of this run's checkpoints
  ckMtime: 0,
  names: [], m: [], show: [],
  curve: [],                   // {t, win, draw, loss, score}
  last: null,                  // scripted counters at the previous curve point
  keys: new Set(),
  drag: null,                  // 0 ball, 1 left, 2 right
  cfgKeys: [],
  msg: '',
};
window.dshq = S; // for tests and the curious
window.dshqLoad = (name, resume) => loadCheckpoint(name, !!resume);

const $ = (id) => document.getElementById(id);
function say(text, isError) { $('msg').textContent = text || ''; $('msg').className = isError ? 'msg error' : 'msg'; }

// ------------------------------------------------------------ capability

function blockers() {
  const out = [];
  if (typeof WebAssembly !== 'object') out.push('This browser has no WebAssembly.');
  if (typeof SharedArrayBuffer !== 'function')
    out.push('SharedArrayBuffer is not available.');
  if (!self.crossOriginIsolated)
    out.push('The page is not cross-origin isolated, so the browser withholds SharedArrayBuffer. ' +
             'Serve it with the COOP/COEP headers: run <code>build/dshq serve</code> and open the ' +
             'URL it prints (not the file directly, and not through another server).');
  else {
    try {
      const mem = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
      if (!(mem.buffer instanceof SharedArrayBuffer)) throw new Error('not shared');
    } catch (e) {
      out.push('This browser has no WebAssembly threads (shared memory): use a current Chromium, Firefox or Safari.');
    }
  }
  if (typeof createDshq !== 'function')
    out.push('web/dist/dshq.js did not load: run <code>make web</code> in the source tree, then reload.');
  return out;
}

// ------------------------------------------------------------ host calls

function wrap(M) {
  const c = (n, r, a) => M.cwrap(n, r, a);
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
    frame: M._web_frame,
    input: M._web_show_input,
    speed: M._web_show_speed,
    showPause: M._web_show_pause,
    swapEvery: M._web_show_swap_interval,
    poke: M._web_show_poke,
    showState: () => { const p = M._web_show_state() >> 2; return M.HEAPF32.subarray(p, p + 32); },
    metrics: () => { const p = M._web_metrics() >> 3; return M.HEAPF64.subarray(p, p + 64); },
    names: () => M.UTF8ToString(M._web_metrics_names()).split(','),
    keys: () => JSON.parse(M.UTF8ToString(M._web_config_keys())),
  };
}

// ------------------------------------------------------------ settings

function defaultWorkers() {
  // The cores the browser reports, less one for the trainer and one for
  // this page (the show and drawing); at least one worker.
  const n = navigator.hardwareConcurrency || 2;
  return Math.max(1, Math.min(16, n - 2));
}

function buildSettings() {
  const form = $('cfgform');
  form.textContent = '';
  for (const k of S.cfgKeys) {
    const lab = document.createElement('label');
    lab.title = k.help;
    const name = document.createElement('span');
    name.textContent = k.name;
    let input;
    if (k.type === 4) { // choice
      input = document.createElement('select');
      for (const ch of k.choices.split('|')) {
        const o = document.createElement('option');
        o.value = o.textContent = ch;
        input.appendChild(o);
      }
    } else if (k.type === 5) { // flag
      input = document.createElement('input');
      input.type = 'checkbox';
    } else {
      input = document.createElement('input');
    }
    let def = k.value;
    if (k.name === 'workers') def = String(defaultWorkers());
    if (input.type === 'checkbox') input.checked = def === '1'; else input.value = def;
    input.dataset.key = k.name;
    input.dataset.def = def;
    lab.append(name, input);
    form.appendChild(lab);
  }
  const ctl = $('ctlform');
  ctl.textContent = '';
  for (const h of HPARAM) {
    const lab = document.createElement('label');
    const name = document.createElement('span');
    name.textContent = h.label;
    const input = document.createElement('input');
    const k = S.cfgKeys.find((x) => x.name === h.key);
    input.value = k ? k.value : '';
    const b = document.createElement('button');
    b.textContent = 'set';
    b.onclick = () => {
      const v = Number(input.value);
      if (S.A.ctlSet(h.id, v)) say(S.A.error(), true); else say(`${h.label} = ${v} sent to the trainer`);
    };
    lab.append(name, input, b);
    ctl.appendChild(lab);
  }
}

// The settings as "key = value" lines (every field: the form is the config).
function settingsText() {
  const lines = [];
  for (const el of $('cfgform').querySelectorAll('[data-key]')) {
    const v = el.type === 'checkbox' ? (el.checked ? '1' : '0') : el.value.trim();
    lines.push(`${el.dataset.key} = ${v}`);
  }
  return lines.join('\n') + '\n';
}

// ------------------------------------------------------------ training

function startTraining(resumePath) {
  const A = S.A;
  S.M.FS.mkdirTree('/ckpt');
  try { S.M.FS.unlink(LIVE_CKPT); } catch (e) { /* none yet */ }
  const every = Math.max(10, Number($('ckevery').value) || 120);
  const rc = A.train(settingsText(), resumePath || '', LIVE_CKPT, every);
  if (rc) { say('Train: ' + A.error(), true); return false; }
  S.training = true; S.stopping = false; S.tpaused = false;
  S.runName = 'run-' + new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19) + '.dshq';
  S.ckMtime = 0; S.curve = []; S.last = null;
  say('');
  syncButtons();
  return true;
}

function stopTraining() {
  if (!S.training) return;
  S.A.stop();
  S.stopping = true;
  syncButtons();
}

function syncButtons() {
  $('train').textContent = S.training ? (S.stopping ? 'Stopping…' : 'Stop') : 'Train';
  $('train').disabled = S.stopping;
  $('tpause').disabled = !S.training || S.stopping;
  $('tpause').textContent = S.tpaused ? 'Resume training' : 'Pause training';
  $('play').textContent = S.showPaused ? 'Play' : 'Pause';
  for (const el of $('cfgform').querySelectorAll('[data-key]')) el.disabled = S.training;
}

// ------------------------------------------------------------ checkpoints (OPFS)

async function opfs() { return navigator.storage.getDirectory(); }

async function opfsWrite(name, bytes) {
  const dir = await opfs();
  const fh = await dir.getFileHandle(name, { create: true });
  const w = await fh.createWritable();
  await w.write(bytes);
  await w.close();
}

async function opfsRead(name) {
  const dir = await opfs();
  const f = await (await dir.getFileHandle(name)).getFile();
  return new Uint8Array(await f.arrayBuffer());
}

// Copies the trainer's newest checkpoint (the module's file system) into
// OPFS under this run's name, when it changed.
async function saveCheckpoint() {
  let st;
  try { st = S.M.FS.stat(LIVE_CKPT); } catch (e) { return false; }
  const mt = st.mtime.getTime() + st.size;
  if (mt === S.ckMtime) return false;
  S.ckMtime = mt;
  const bytes = S.M.FS.readFile(LIVE_CKPT);
  await opfsWrite(S.runName, bytes);
  await listCheckpoints();
  return true;
}

async function listCheckpoints() {
  const ul = $('cklist');
  let entries = [];
  try {
    const dir = await opfs();
    for await (const [name, h] of dir.entries())
      if (h.kind === 'file' && name.endsWith('.dshq')) entries.push([name, await h.getFile()]);
  } catch (e) {
    ul.textContent = 'OPFS is not available here: ' + e.message;
    return;
  }
  entries.sort((a, b) => b[1].lastModified - a[1].lastModified);
  S.checkpoints = entries.map(([n]) => n);
  ul.textContent = '';
  if (!entries.length) { ul.textContent = 'none yet: Train saves one every few minutes and on Stop'; return; }
  for (const [name, file] of entries) {
    const li = document.createElement('li');
    const sp = document.createElement('span');
    sp.textContent = `${name} (${(file.size / 1024).toFixed(0)} KiB)`;
    const btn = (label, fn) => { const b = document.createElement('button'); b.textContent = label; b.onclick = fn; return b; };
    li.append(sp,
      btn('play', () => loadCheckpoint(name, false)),
      btn('resume', () => loadCheckpoint(name, true)),
      btn('download', () => download(name)),
      btn('delete', async () => { await (await opfs()).removeEntry(name); listCheckpoints(); }));
    ul.appendChild(li);
  }
}

// Puts an OPFS checkpoint into the module's file system; then plays it in
// the show (a run with no roles) or continues training from it.
async function loadCheckpoint(name, resume) {
  if (S.training) { say('Stop the training first.', true); return -1; }
  const bytes = await opfsRead(name);
  S.M.FS.mkdirTree('/ckpt');
  const path = '/ckpt/load.dshq';
  S.M.FS.writeFile(path, bytes);
  const info = S.A.info(path);
  if (!info) { say(S.A.error(), true); return -1; }
  if (resume) return startTraining(path) ? 0 : -1;
  const rc = S.A.play(path);
  if (rc) { say(S.A.error(), true); return rc; }
  const i = JSON.parse(info);
  say(`playing ${name}: ${i.arch}, ${i.updates} updates, version ${i.version}`);
  return 0;
}

async function download(name) {
  const bytes = await opfsRead(name);
  const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
  const a = document.createElement('a');
  a.href = url; a.download = name;
  document.body.appendChild(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

async function upload(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  // Check it before keeping it: the same header checks as natively.
  S.M.FS.mkdirTree('/ckpt');
  S.M.FS.writeFile('/ckpt/upload.dshq', bytes);
  if (!S.A.info('/ckpt/upload.dshq')) { say('not a checkpoint: ' + S.A.error(), true); return; }
  await opfsWrite(file.name.endsWith('.dshq') ? file.name : file.name + '.dshq', bytes);
  await listCheckpoints();
  say(`${file.name} stored`);
}

// ------------------------------------------------------------ telemetry

const PANEL = [
  ['steps/s', (m) => fmt(m.steps_per_s, 0)], ['steps', (m) => fmt(m.steps, 0)],
  ['weights version', (m) => fmt(m.weights_version, 0)], ['updates', (m) => fmt(m.updates, 0)],
  ['policy lag (mean)', (m) => fmt(m.policy_lag_mean, 2)], ['lag min/max', (m) => `${fmt(m.policy_lag_min, 0)}/${fmt(m.policy_lag_max, 0)}`],
  ['policy loss', (m) => fmt(m.policy_loss, 4)], ['value loss', (m) => fmt(m.value_loss, 4)],
  ['entropy', (m) => fmt(m.entropy, 3)], ['KL', (m) => fmt(m.approx_kl, 5)],
  ['return (mean)', (m) => fmt(m.mean_return, 3)], ['score vs ' + 'opp.', (m) => isFinite(m.score_ema) ? (100 * m.score_ema).toFixed(0) + '%' : '–'],
  ['learning rate', (m) => fmt(m.learning_rate, 6)], ['chunks used/late', (m) => `${fmt(m.chunks_consumed, 0)}/${fmt(m.chunks_dropped_lag, 0)}`],
];

function fmt(v, d) { return Number.isFinite(v) ? v.toFixed(d) : '–'; }

function readMetrics() {
  const raw = S.A.metrics();
  const m = {};
  S.names.forEach((n, i) => { m[n] = raw[i]; });
  m.vsEpisodes = raw[40]; m.vsWins = raw[41]; m.vsLosses = raw[42];
  m.state = raw[43]; m.running = raw[44]; m.workers = raw[45];
  return m;
}

function telemetryTick() {
  const m = readMetrics();
  S.m = m;
  const tb = $('telemetry').tBodies[0];
  if (tb.rows.length !== PANEL.length / 2) {
    tb.textContent = '';
    for (let i = 0; i < PANEL.length; i += 2) {
      const tr = tb.insertRow();
      for (let j = 0; j < 4; j++) tr.insertCell();
    }
  }
  for (let i = 0; i < PANEL.length; i++) {
    const tr = tb.rows[i >> 1], c = (i & 1) * 2;
    tr.cells[c].textContent = PANEL[i][0];
    tr.cells[c + 1].textContent = PANEL[i][1](m);
  }
  if (S.training) {
    curvePoint(m);
    const w = Number.isFinite(m.workers) ? m.workers : '?';
    $('runstate').textContent = `${w} worker${w === 1 ? '' : 's'} + trainer · ${fmt(m.wall_s, 0)} s` +
      (m.paused ? ' · paused' : '');
    if (S.A.running() === 0) finished();
  }
}

// One point of the learning curve: win/draw/loss rates of the episodes
// against the scripted opponent that ended since the previous point.
function curvePoint(m) {
  if (!Number.isFinite(m.vsEpisodes)) return;
  const now = { e: m.vsEpisodes, w: m.vsWins, l: m.vsLosses, t: m.wall_s };
  const last = S.last;
  if (!last) { S.last = now; return; }
  const de = now.e - last.e;
  if (de < 100 && now.t - last.t < 20) return; // too few episodes for a rate yet
  S.last = now;
  if (de <= 0) return;
  const win = (now.w - last.w) / de, loss = (now.l - last.l) / de;
  S.curve.push({ t: Number.isFinite(now.t) ? now.t : 0, win, loss, draw: Math.max(0, 1 - win - loss), n: de });
  drawCurve();
}

function drawCurve() {
  const cv = $('curve'), g = cv.getContext('2d');
  const W = cv.width, H = cv.height, L = 34, B = 18;
  g.clearRect(0, 0, W, H);
  g.strokeStyle = '#ccc'; g.fillStyle = '#666'; g.font = '10px sans-serif';
  for (const y of [0, 0.25, 0.5, 0.75, 1]) {
    const py = H - B - y * (H - B - 6);
    g.beginPath(); g.moveTo(L, py); g.lineTo(W - 4, py); g.stroke();
    g.fillText((y * 100) + '%', 2, py + 3);
  }
  const pts = S.curve;
  const tmax = Math.max(60, pts.length ? pts[pts.length - 1].t : 0);
  g.fillText('0 s', L, H - 4);
  g.fillText(`${tmax.toFixed(0)} s`, W - 40, H - 4);
  const series = [['win', '#2e7d32'], ['draw', '#9e9e9e'], ['loss', '#c62828']];
  for (const [k, col] of series) {
    g.strokeStyle = col; g.lineWidth = 2; g.beginPath();
    pts.forEach((p, i) => {
      const x = L + (W - L - 6) * p.t / tmax, y = H - B - p[k] * (H - B - 6);
      if (i) g.lineTo(x, y); else g.moveTo(x, y);
    });
    g.stroke();
  }
  g.lineWidth = 1;
  g.fillStyle = 'rgba(255,255,255,0.85)'; g.fillRect(W - 150, H - B - 22, 144, 16);
  series.forEach(([k, col], i) => { g.fillStyle = col; g.fillText('— ' + k, W - 146 + i * 46, H - B - 10); });
}

async function finished() {
  const rc = S.A.trainerRc();
  S.training = false; S.stopping = false;
  syncButtons();
  try {
    if (await saveCheckpoint()) say(`training ended${rc ? ' with an error (see the console)' : ''}; checkpoint ${S.runName} saved`);
    else say(`training ended${rc ? ' with an error (see the console)' : ''}`);
  } catch (e) { say('saving the checkpoint failed: ' + e.message, true); }
}

// ------------------------------------------------------------ the show

const cv = $('field'), g = cv.getContext('2d');
const scale = () => Math.min(cv.width / (2 * (FIELD.hx + FIELD.depth) + 1), cv.height / (2 * FIELD.hy + 1));
const toPx = (x, y) => { const s = scale(); return [cv.width / 2 + x * s, cv.height / 2 - y * s]; };
const toWorld = (px, py) => { const s = scale(); return [(px - cv.width / 2) / s, (cv.height / 2 - py) / s]; };

function drawShow(st) {
  const s = scale();
  g.fillStyle = '#2e7d32'; g.fillRect(0, 0, cv.width, cv.height);
  g.strokeStyle = '#e8f5e9'; g.lineWidth = 2;
  const [x0, y0] = toPx(-FIELD.hx, FIELD.hy);
  g.strokeRect(x0, y0, 2 * FIELD.hx * s, 2 * FIELD.hy * s);
  g.beginPath(); g.moveTo(cv.width / 2, y0); g.lineTo(cv.width / 2, y0 + 2 * FIELD.hy * s); g.stroke();
  g.beginPath(); g.arc(cv.width / 2, cv.height / 2, 2 * s, 0, 2 * Math.PI); g.stroke();
  for (const side of [-1, 1]) { // goals
    const [gx, gy] = toPx(side < 0 ? -FIELD.hx - FIELD.depth : FIELD.hx, FIELD.goal);
    g.fillStyle = side < 0 ? 'rgba(21,101,192,0.35)' : 'rgba(198,40,40,0.35)';
    g.fillRect(gx, gy, FIELD.depth * s, 2 * FIELD.goal * s);
    g.strokeRect(gx, gy, FIELD.depth * s, 2 * FIELD.goal * s);
  }
  for (let i = 0; i < 2; i++) {
    const [px, py] = toPx(st[4 + 4 * i], st[5 + 4 * i]);
    const ang = Math.atan2(st[7 + 4 * i], st[6 + 4 * i]);
    g.save(); g.translate(px, py); g.rotate(-ang);
    g.fillStyle = i === 0 ? '#1565c0' : '#c62828';
    if (S.human === i + 1) { g.strokeStyle = '#ffeb3b'; g.lineWidth = 3; g.strokeRect(-FIELD.player * s, -FIELD.player * s, 2 * FIELD.player * s, 2 * FIELD.player * s); }
    g.fillRect(-FIELD.player * s, -FIELD.player * s, 2 * FIELD.player * s, 2 * FIELD.player * s);
    g.fillStyle = '#fff'; g.fillRect(FIELD.player * s * 0.4, -3, FIELD.player * s * 0.8, 6);
    g.restore();
  }
  const [bx, by] = toPx(st[0], st[1]);
  g.fillStyle = '#fff'; g.beginPath(); g.arc(bx, by, FIELD.ball * s, 0, 2 * Math.PI); g.fill();
  g.strokeStyle = '#333'; g.lineWidth = 1; g.stroke();
  // Scoreboard
  g.fillStyle = 'rgba(0,0,0,0.45)'; g.fillRect(cv.width / 2 - 150, 4, 300, 40);
  g.fillStyle = '#fff'; g.font = 'bold 18px sans-serif'; g.textAlign = 'center';
  g.fillText(`${st[12]} : ${st[13]}`, cv.width / 2, 24);
  g.font = '11px sans-serif';
  const who = (S.human === 1 ? 'YOU' : st[24] ? `policy v${st[15]}` : 'untrained (random)') + '  vs  ' + (S.human === 2 ? 'YOU' : 'scripted');
  g.fillText(who, cv.width / 2, 39);
  g.textAlign = 'left';
  if (st[21]) { g.fillStyle = 'rgba(0,0,0,0.5)'; g.fillRect(8, 8, 80, 22); g.fillStyle = '#fff'; g.fillText('PAUSED', 20, 23); }
}

const KEYMAP = { ArrowUp: IN.UP, w: IN.UP, W: IN.UP, ArrowDown: IN.DOWN, s: IN.DOWN, S: IN.DOWN,
                 ArrowLeft: IN.LEFT, a: IN.LEFT, A: IN.LEFT, ArrowRight: IN.RIGHT, d: IN.RIGHT, D: IN.RIGHT,
                 e: IN.DASH, E: IN.DASH };

function frame() {
  const A = S.A;
  if (S.human) for (const k of S.keys) if (KEYMAP[k]) A.input(KEYMAP[k]);
  A.frame();
  const st = A.showState();
  S.show = Array.from(st.subarray(0, 25));
  drawShow(st);
  $('showinfo').textContent = `v${st[15]} · ${st[16]} swaps · W/D/L ${st[17]}/${st[18]}/${st[19]} · ${st[20]}x`;
  requestAnimationFrame(frame);
}

function bindShow() {
  const A = S.A;
  $('play').onclick = () => { S.showPaused = !S.showPaused; A.showPause(S.showPaused ? 1 : 0); syncButtons(); };
  $('speed').onchange = (e) => A.speed(Number(e.target.value));
  $('reset').onclick = () => A.input(IN.RESET);
  $('swap').onchange = (e) => A.swapEvery(Math.max(0, Number(e.target.value) || 0));
  const take = (side) => { A.input(side === 1 ? IN.TAKE_LEFT : IN.TAKE_RIGHT); S.human = S.human === side ? 0 : side; cv.focus(); };
  $('takeLeft').onclick = () => take(1);
  $('takeRight').onclick = () => take(2);
  cv.addEventListener('keydown', (e) => {
    if (e.key === ' ') { $('play').click(); }
    else if (e.key === '1') take(1);
    else if (e.key === '2') take(2);
    else if (e.key === 'r' || e.key === 'R') A.input(IN.RESET);
    else if (e.key === '+' || e.key === '=') stepSpeed(1);
    else if (e.key === '-') stepSpeed(-1);
    else if (KEYMAP[e.key]) S.keys.add(e.key);
    else return;
    e.preventDefault();
  });
  cv.addEventListener('keyup', (e) => S.keys.delete(e.key));
  cv.addEventListener('blur', () => S.keys.clear());
  const pos = (e) => { const r = cv.getBoundingClientRect(); return toWorld((e.clientX - r.left) * cv.width / r.width, (e.clientY - r.top) * cv.height / r.height); };
  cv.addEventListener('pointerdown', (e) => {
    const [x, y] = pos(e), st = S.show;
    const cand = [[0, st[0], st[1], 0.9], [1, st[4], st[5], 0.9], [2, st[8], st[9], 0.9]];
    let best = null, bd = 1e9;
    for (const [w, cx, cy, r] of cand) { const d = Math.hypot(cx - x, cy - y); if (d < r && d < bd) { bd = d; best = w; } }
    S.drag = best;
    if (best !== null) { cv.setPointerCapture(e.pointerId); cv.style.cursor = 'grabbing'; }
  });
  cv.addEventListener('pointermove', (e) => { if (S.drag !== null) { const [x, y] = pos(e); A.poke(S.drag, x, y); } });
  const end = () => { S.drag = null; cv.style.cursor = 'grab'; };
  cv.addEventListener('pointerup', end);
  cv.addEventListener('pointercancel', end);
}

function stepSpeed(dir) {
  const sel = $('speed');
  sel.selectedIndex = Math.max(0, Math.min(sel.options.length - 1, sel.selectedIndex + dir));
  S.A.speed(Number(sel.value));
}

// ------------------------------------------------------------ start

async function main() {
  const blocked = blockers();
  if (blocked.length) {
    const box = $('blocked');
    box.hidden = false;
    box.innerHTML = '<b>The trainer cannot run in this tab.</b><ul>' +
      blocked.map((b) => `<li>${b}</li>`).join('') + '</ul>';
    $('status').textContent = 'not available: ' + (self.crossOriginIsolated ? 'see below' : 'not cross-origin isolated');
    $('app').hidden = true;
    S.blocked = blocked;
    return;
  }
  $('status').textContent = 'loading the C core…';
  S.M = await createDshq({ printErr: (t) => console.warn(t), print: (t) => console.log(t) });
  S.A = wrap(S.M);
  S.names = S.A.names();
  S.cfgKeys = S.A.keys();
  buildSettings();
  if (S.A.idle('', 7)) say(S.A.error(), true);
  bindShow();
  $('train').onclick = () => { if (S.training) stopTraining(); else startTraining(''); };
  $('tpause').onclick = () => {
    if (S.A.ctlPause(S.tpaused ? 0 : 1)) { say(S.A.error(), true); return; }
    S.tpaused = !S.tpaused; syncButtons();
  };
  $('upload').onchange = (e) => { if (e.target.files[0]) upload(e.target.files[0]); };
  syncButtons();
  drawCurve();
  listCheckpoints();
  setInterval(telemetryTick, 500);
  setInterval(() => { if (S.training) saveCheckpoint().catch((e) => say('OPFS: ' + e.message, true)); }, 5000);
  addEventListener('beforeunload', () => { if (S.training) S.A.stop(); });
  $('status').textContent = `ready · cross-origin isolated · ${navigator.hardwareConcurrency || '?'} cores reported`;
  S.ready = true;
  requestAnimationFrame(frame);
}

main().catch((e) => { $('status').textContent = 'failed: ' + e.message; console.error(e); });
