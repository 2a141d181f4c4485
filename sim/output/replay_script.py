"""The replay page's script (vanilla JavaScript, no network): it reads the run's data once, then draws the
floor at the current instant on every animation frame: each agent's state by binary search in its own
segments, the waiting callers by a scan of the waits up to now, the service level so far by two binary
searches. Play, pause, speed and seek change only the instant. A test hook, `window.callsimReplay` (`play`,
`pause`, `seek(t)`, `speed(x)`, `follow(callId)`, `state()`), lets a browser test drive the page and read
what it shows. The page around it is `sim.output.replay_page`.
"""

from __future__ import annotations

SCRIPT = r"""
(function () {
'use strict';
const D = JSON.parse(document.getElementById('replay-data').textContent);
const END = D.ended_at, STATES = D.states, EV = D.event_names;
const S = D.segments, W = D.waits, M = D.moments, C = D.calls, A = D.agents;
const LABEL = {offline:'offline', idle:'idle', ringing:'ringing', talking:'talking', on_hold:'on hold',
  wrap_up:'wrapping up', on_break:'on break', dialling:'dialling back', transferring:'in a transfer'};
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));
function upper(arr, x, lo, hi) {  // first index in [lo, hi) whose value is > x (arr sorted)
  lo = lo || 0; hi = (hi === undefined) ? arr.length : hi;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (arr[mid] <= x) lo = mid + 1; else hi = mid; }
  return lo;
}
const pad = (n) => String(n).padStart(2, '0');
function clock(t, seconds) {
  const s = Math.round(D.start + t), h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60;
  return pad(h) + ':' + pad(m) + (seconds === false ? '' : ':' + pad(s % 60));
}
function spoken(x) {
  x = Math.round(x);
  if (x < 60) return x + 's';
  const m = Math.floor(x / 60), s = x % 60;
  if (m < 60) return s ? m + 'm ' + pad(s) + 's' : m + 'm';
  return Math.floor(m / 60) + 'h ' + pad(m % 60) + 'm';
}
const callIndex = new Map(C.id.map((id, i) => [id, i]));
const agentIndex = new Map(A.id.map((id, i) => [id, i]));
const ev = {};  // per moment kind, its instants (for "so far" counts)
M.event.forEach((code, i) => { (ev[EV[code]] = ev[EV[code]] || []).push(M.t[i]); });
const soFar = (name, t) => ev[name] ? upper(ev[name], t) : 0;
const live = {t: 0, playing: false, speed: 60, followed: null, last: null, line: null};

// ---- the floor at an instant -------------------------------------------------------------
function agentAt(i, t) {
  const lo = S.offset[i], hi = S.offset[i + 1], k = upper(S.t, t, lo, hi) - 1;
  if (k < lo) return {state: 'offline', call: -1, since: 0};
  return {state: STATES[S.state[k]], call: S.call[k], since: S.t[k]};
}
const ON_CHANNEL = {chat: 'chatting', email: 'answering an email'};  // talking, on another channel
function deskLabel(a) {  // what the desk is doing, with the channel of its contact: 'chatting #12'
  const k = a.call >= 0 ? callIndex.get(a.call) : undefined;
  const channel = k === undefined || !C.channel ? '' : D.channels[C.channel[k]];
  return (a.state === 'talking' && ON_CHANNEL[channel]) || LABEL[a.state];
}
function waitingAt(t) {
  const out = [], stop = upper(W.start, t);
  for (let i = 0; i < stop; i++) {
    const end = W.end[i];
    if (end < 0 || t < end) out.push(i);
  }
  return out;
}
if (!D.within_rings) $('st-rings').remove();
function serviceLevelAt(t) {
  const decided = upper(D.service.decided, t);
  return decided ? upper(D.service.hits, t) / decided : NaN;
}

// ---- building the page once ---------------------------------------------------------------
const floor = $('floor'), panels = {}, desks = [];
function panel(key, title, note, queueless) {
  const el = document.createElement('section');
  el.className = 'dept';
  el.innerHTML = '<h2><span>' + esc(title) + '</span><small></small></h2>' +
    (note ? '<div class="hint">' + esc(note) + '</div>' : '') +
    '<div class="queue"></div><div class="queue callbacks"></div><div class="pools"></div>';
  if (queueless) el.querySelectorAll('.queue').forEach((q) => { q.hidden = true; });
  floor.appendChild(el);
  panels[key] = {el: el, head: el.querySelector('small'), queue: el.querySelector('.queue'),
    callbacks: el.querySelector('.callbacks'), pools: el.querySelector('.pools')};
  return panels[key];
}
const hasMenu = W.kind.some((k) => D.wait_kinds[k] === 'menu');
if (hasMenu) panel('menu', 'Phone menu', 'callers choosing an option');
D.departments.forEach((name, d) => {
  if (D.scenario_departments.includes(name)) panel(d, name);
});
D.pools.forEach((pool, p) => {
  let target = panels[pool.department];
  if (!target) target = panel('pool' + p, pool.name, 'agent group: takes calls of several departments', true);
  const label = document.createElement('div');
  label.className = 'pool-label';
  label.textContent = pool.name + (pool.department >= 0 && D.departments[pool.department] === pool.name ? ' agents' : '');
  const grid = document.createElement('div');
  grid.className = 'desks';
  target.pools.appendChild(label); target.pools.appendChild(grid);
  A.pool.forEach((q, i) => {
    if (q !== p) return;
    const el = document.createElement('div');
    el.className = 'desk s-offline';
    el.title = A.label[i];
    el.innerHTML = '<b>agent ' + A.number[i] + '</b><span></span><br><small></small>';
    grid.appendChild(el);
    desks[i] = {el: el, text: el.querySelector('span'), more: el.querySelector('small'), key: ''};
  });
});
// the service-level threshold a wait is judged by: its department's (goals.departments.NAME.threshold)
const OWN_THRESHOLDS = D.department_thresholds.some((limit) => limit !== D.threshold);
function limitOf(i) { return D.department_thresholds[W.department[i]]; }
const used = new Set(S.state.map((s) => STATES[s]));
used.add('idle'); used.add('offline');
$('legend').innerHTML = STATES.filter((s) => used.has(s)).map((s) =>
  '<span><i style="background:var(--' + s + ')"></i>' + LABEL[s] + '</span>').join('') +
  (OWN_THRESHOLDS
    ? '<span><i style="background:var(--ok)"></i>waiting, under the department\'s threshold</span>' +
      '<span><i style="background:var(--late)"></i>waiting, past it</span>' +
      '<span><i style="background:var(--bad)"></i>waiting, past twice it</span>'
    : '<span><i style="background:var(--ok)"></i>waiting, under ' + spoken(D.threshold) + '</span>' +
      '<span><i style="background:var(--late)"></i>waiting, past ' + spoken(D.threshold) + '</span>' +
      '<span><i style="background:var(--bad)"></i>waiting, past ' + spoken(2 * D.threshold) + '</span>') +
  '<span><i style="background:#fff;border:1px dashed #888"></i>callback waiting (off the line)</span>' +
  '<span>&#x21bb;N: the caller\'s Nth queue (bounced)</span>';

// ---- drawing -------------------------------------------------------------------------------
function chip(i, t) {
  const kind = D.wait_kinds[W.kind[i]], waited = t - W.start[i], call = W.call[i];
  let cls = 'chip';
  if (kind === 'callback') cls += ' cb';
  else if (kind === 'menu') cls += ' menu';
  else if (waited > 2 * limitOf(i)) cls += ' bad';
  else if (waited > limitOf(i)) cls += ' late';
  if (call === live.followed) cls += ' followed';
  const bounce = W.visit[i] > 1 ? '<span class="bounce">&#x21bb;' + W.visit[i] + '</span>' : '';
  return '<span class="' + cls + '" data-call="' + call + '" title="call ' + call + ': ' + kind + ' for ' +
    spoken(waited) + '">#' + call + ' ' + spoken(waited) + bounce + '</span>';
}
const MAX_CHIPS = 60;
function drawQueues(t) {
  const byPanel = {};
  const waiting = waitingAt(t);
  for (const i of waiting) {
    const kind = D.wait_kinds[W.kind[i]];
    const key = kind === 'menu' ? 'menu' : W.department[i];
    const bucket = byPanel[key] = byPanel[key] || {queue: [], callbacks: [], longest: 0};
    (kind === 'callback' ? bucket.callbacks : bucket.queue).push(i);
    if (kind === 'queue') bucket.longest = Math.max(bucket.longest, t - W.start[i]);
  }
  for (const key of Object.keys(panels)) {
    const p = panels[key], b = byPanel[key] || {queue: [], callbacks: [], longest: 0};
    const render = (list) => list.slice(0, MAX_CHIPS).map((i) => chip(i, t)).join('') +
      (list.length > MAX_CHIPS ? '<span class="more">+' + (list.length - MAX_CHIPS) + ' more</span>' : '');
    p.queue.innerHTML = render(b.queue);
    p.callbacks.innerHTML = render(b.callbacks);
    if (key === 'menu') p.head.textContent = b.queue.length + ' in the menu';
    else if (!key.startsWith('pool')) {
      p.head.textContent = b.queue.length ? b.queue.length + ' waiting, longest ' + spoken(b.longest) +
        (b.callbacks.length ? ', ' + b.callbacks.length + ' callbacks' : '') :
        (b.callbacks.length ? b.callbacks.length + ' callbacks waiting' : 'nobody waiting');
    }
  }
  return waiting;
}
function drawDesks(t) {
  const counts = {};
  A.id.forEach((id, i) => {
    const a = agentAt(i, t), d = desks[i];
    counts[a.state] = (counts[a.state] || 0) + 1;
    if (!d) return;
    let more = '';
    if (a.state === 'ringing' && D.ring_cycle > 0) more = 'ring ' + (Math.floor((t - a.since) / D.ring_cycle) + 1);
    else if (a.state !== 'offline' && a.state !== 'idle') more = spoken(t - a.since);
    const key = a.state + '|' + a.call + '|' + more + '|' + (a.call === live.followed);
    if (key === d.key) return;
    d.key = key;
    d.el.className = 'desk s-' + a.state + (a.call >= 0 && a.call === live.followed ? ' followed' : '');
    d.text.textContent = deskLabel(a) + (a.call >= 0 ? ' #' + a.call : '');
    d.more.textContent = more;
    if (a.call >= 0) d.el.dataset.call = a.call; else delete d.el.dataset.call;
  });
  return counts;
}
function stat(id, value, note, cls) {
  const el = $(id);
  el.className = 'stat' + (cls ? ' ' + cls : '');
  el.querySelector('b').textContent = value;
  el.querySelector('span').textContent = note;
}
function drawStats(t, waiting, counts) {
  const level = serviceLevelAt(t), decided = upper(D.service.decided, t), hits = upper(D.service.hits, t);
  stat('st-sl', isNaN(level) ? '\u2014' : (100 * level).toFixed(1) + '%',
    'service level so far: ' + hits + ' of ' + decided + ' within ' +
    (OWN_THRESHOLDS ? D.threshold_words : spoken(D.threshold)) +
    ', target ' + Math.round(100 * D.target) + '%', isNaN(level) ? '' : (level >= D.target ? 'good' : 'bad'));
  const R = D.within_rings;
  if (R) {
    const ringsDecided = upper(R.decided, t), inRings = ringsDecided ? upper(R.hits, t) / ringsDecided : NaN;
    stat('st-rings', isNaN(inRings) ? '\u2014' : (100 * inRings).toFixed(1) + '%', 'within ' + D.rings +
      ' rings (' + spoken(D.rings * D.ring_cycle) + '): ' + upper(R.hits, t) + ' of ' + ringsDecided);
  }
  let queued = 0, longest = 0, late = false;
  for (const i of waiting) if (D.wait_kinds[W.kind[i]] === 'queue') {
    queued++; longest = Math.max(longest, t - W.start[i]); late = late || t - W.start[i] > limitOf(i);
  }
  stat('st-wait', String(queued), queued ? 'waiting, longest ' + spoken(longest) : 'waiting now',
    late ? 'bad' : '');
  const busy = (counts.ringing || 0) + (counts.talking || 0) + (counts.on_hold || 0) + (counts.dialling || 0) + (counts.transferring || 0);
  stat('st-agents', busy + ' / ' + (A.id.length - (counts.offline || 0) - (counts.on_break || 0)),
    'with a caller / on duty; ' + (counts.idle || 0) + ' idle, ' + (counts.wrap_up || 0) + ' wrap-up' +
    (counts.on_break ? ', ' + counts.on_break + ' on break' : ''));
  const lost = soFar('abandon', t) + soFar('abandon_on_hold', t) + soFar('block', t) + soFar('queue_full', t);
  stat('st-lost', String(lost), 'callers lost so far');
  stat('st-moved', String(soFar('transfer', t)), 'transfers so far' +
    (soFar('callback_request', t) ? '; ' + soFar('callback_request', t) + ' callbacks asked' : ''));
}
function describe(i) {
  const name = EV[M.event[i]], call = '#' + M.call[i], dept = D.departments[M.department[i]] || '';
  const who = M.agent[i] >= 0 && agentIndex.has(M.agent[i]) ? A.label[agentIndex.get(M.agent[i])] : '';
  switch (name) {
    case 'transfer': return call + ': ' + who + ' transfers to ' + D.departments[M.to[i]];
    case 'abandon': return call + ' hangs up after ' + spoken(M.detail[i]) + (M.agent[i] >= 0 ? ' while it rang' : ' in the ' + dept + ' queue');
    case 'block': return call + ' hears a busy signal';
    case 'queue_full': return call + ': the ' + dept + ' queue is full';
    case 'callback_request': return call + ' asks for a callback instead of waiting';
    case 'callback_dial': return call + ': ' + who + ' dials back';
    case 'abandon_on_hold': return call + ' hangs up on hold after ' + spoken(M.detail[i]);
    case 'drop': return call + ' gives up unresolved';
    case 'callback_failed': return call + ': callback given up';
  }
  return call + ' ' + name;
}
function drawTicker(t) {
  const stop = upper(M.t, t), start = Math.max(0, stop - 8), items = [];
  for (let i = stop - 1; i >= start; i--) {
    items.push('<li data-call="' + M.call[i] + '"><b>' + clock(M.t[i]) + '</b> ' + esc(describe(i)) + '</li>');
  }
  $('ticker').innerHTML = items.join('') || '<li class="hint">nothing yet</li>';
}
const arrows = $('arrows');
function centre(key) {
  const p = panels[key]; if (!p) return null;
  const r = p.el.getBoundingClientRect(), f = floor.getBoundingClientRect();
  return {x: r.left - f.left + r.width / 2, y: r.top - f.top + 18};
}
function drawArrows(t) {
  const width = floor.clientWidth, height = floor.clientHeight;
  if (arrows.width !== width || arrows.height !== height) { arrows.width = width; arrows.height = height; }
  const g = arrows.getContext('2d');
  g.clearRect(0, 0, width, height);
  const window_ = Math.max(30, live.speed * 2.5), stop = upper(M.t, t);
  for (let i = stop - 1; i >= 0 && M.t[i] > t - window_; i--) {
    if (EV[M.event[i]] !== 'transfer') continue;
    const a = centre(M.department[i]), b = centre(M.to[i]);
    if (!a || !b) continue;
    const fade = 1 - (t - M.t[i]) / window_;
    g.strokeStyle = 'rgba(224,86,122,' + fade.toFixed(3) + ')';
    g.fillStyle = g.strokeStyle;
    g.lineWidth = 3;
    const mx = (a.x + b.x) / 2, my = Math.min(a.y, b.y) - 40;
    g.beginPath(); g.moveTo(a.x, a.y); g.quadraticCurveTo(mx, my, b.x, b.y); g.stroke();
    const angle = Math.atan2(b.y - my, b.x - mx);
    g.beginPath(); g.moveTo(b.x, b.y);
    g.lineTo(b.x - 12 * Math.cos(angle - 0.4), b.y - 12 * Math.sin(angle - 0.4));
    g.lineTo(b.x - 12 * Math.cos(angle + 0.4), b.y - 12 * Math.sin(angle + 0.4));
    g.fill();
    g.font = '12px system-ui,sans-serif';
    g.fillText('#' + M.call[i], mx, my + 10);
  }
}

// ---- the day at a glance: service level and callers waiting, with the cursor --------------
const strip = $('strip'), SAMPLES = 480, samples = [];
(function sample() {
  const queueStarts = [], queueEnds = [];
  W.kind.forEach((k, i) => {
    if (D.wait_kinds[k] !== 'queue') return;
    queueStarts.push(W.start[i]);
    if (W.end[i] >= 0) queueEnds.push(W.end[i]);
  });
  queueEnds.sort((x, y) => x - y);  // starts are sorted already
  for (let j = 0; j <= SAMPLES; j++) {
    const t = END * j / SAMPLES;
    samples.push({t: t, level: serviceLevelAt(t), waiting: upper(queueStarts, t) - upper(queueEnds, t)});
  }
})();
const mostWaiting = samples.reduce((most, s) => Math.max(most, s.waiting), 1);
const stripBack = document.createElement('canvas');  // the day drawn once per size; each frame adds the cursor
function drawStrip(t) {
  const width = strip.clientWidth, height = strip.clientHeight;
  if (strip.width !== width || strip.height !== height) {
    strip.width = width; strip.height = height;
    stripBack.width = width; stripBack.height = height;
    drawDay(stripBack.getContext('2d'), width, height);
  }
  const g = strip.getContext('2d');
  g.clearRect(0, 0, width, height);
  g.drawImage(stripBack, 0, 0);
  g.fillStyle = '#111'; g.fillRect(t / END * width - 1, 0, 2, height);
}
function roundStep(span) {
  // the largest round step giving at least four ticks across the day
  const steps = [300, 600, 900, 1800, 3600, 7200, 10800, 21600];
  for (let k = steps.length - 1; k >= 0; k--) if (span / steps[k] >= 4) return steps[k];
  return steps[0];
}
function slides(on) {
  // presentation mode: large type for a projector; the strip is drawn again at its new size
  document.body.classList.toggle('slides', on);
  strip.width = 0;
  draw();
}
function drawDay(g, width, height) {
  const x = (s) => s / END * width;
  g.fillStyle = 'rgba(210,60,60,0.18)';
  g.beginPath(); g.moveTo(0, height);
  samples.forEach((s) => g.lineTo(x(s.t), height - s.waiting / mostWaiting * (height - 8)));
  g.lineTo(width, height); g.fill();
  g.setLineDash([4, 4]); g.strokeStyle = '#999'; g.beginPath();
  g.moveTo(0, height - D.target * (height - 8)); g.lineTo(width, height - D.target * (height - 8)); g.stroke();
  g.setLineDash([]); g.strokeStyle = '#2e6bd1'; g.lineWidth = 2; g.beginPath();
  let started = false;
  samples.forEach((s) => {
    if (isNaN(s.level)) return;
    const y = height - s.level * (height - 8);
    if (started) g.lineTo(x(s.t), y); else { g.moveTo(x(s.t), y); started = true; }
  });
  g.stroke();
  const step = roundStep(END);  // ticks on round clock times (every 15 min, 30 min, hour, ...)
  g.fillStyle = '#6b7485'; g.strokeStyle = '#b8bec8'; g.lineWidth = 1; g.textAlign = 'center';
  g.font = (document.body.classList.contains('slides') ? 14 : 10) + 'px system-ui,sans-serif';
  live.ticks = [];
  for (let at = Math.ceil(D.start / step) * step; at <= D.start + END; at += step) {
    const px = x(at - D.start);
    live.ticks.push(at);
    g.beginPath(); g.moveTo(px, 0); g.lineTo(px, 5); g.stroke();
    g.fillText(clock(at - D.start, false), px, 16);
  }
  g.font = '11px system-ui,sans-serif'; g.textAlign = 'right'; g.fillStyle = '#2e6bd1';
  g.fillText('service level so far (dashed: target ' + Math.round(100 * D.target) + '%)', width - 6, height - 20);
  g.fillStyle = '#d23c3c'; g.fillText('callers waiting (most: ' + mostWaiting + ')', width - 6, height - 6);
}
strip.addEventListener('click', (e) => {
  const r = strip.getBoundingClientRect();
  seek((e.clientX - r.left) / r.width * END);
});

// ---- the followed caller ------------------------------------------------------------------
function callRows(index) {
  const E = C.events, rows = [];
  for (let k = E.first[index]; k < E.stop[index]; k++) {
    rows.push([E.t[k], EV[E.event[k]], D.departments[E.department[k]] === undefined ? null : D.departments[E.department[k]], E.agent[k], E.detail[k]]);
  }
  return rows;
}
function storyLines(index) {
  const lines = [];
  for (let k = C.story.offset[index]; k < C.story.offset[index + 1]; k++) lines.push([C.story.t[k], C.story.text[k]]);
  return lines;
}
function whereIs(index, t) {
  const id = C.id[index];
  if (t < C.arrived_at[index]) return 'has not called yet (calls at ' + clock(C.arrived_at[index]) + ')';
  for (const i of waitingAt(t)) {
    if (W.call[i] !== id) continue;
    const kind = D.wait_kinds[W.kind[i]], dept = D.departments[W.department[i]];
    if (kind === 'menu') return 'in the phone menu';
    if (kind === 'callback') return 'waiting off the line for a callback from ' + dept + ' (' + spoken(t - W.start[i]) + ' so far)';
    return 'waiting in the ' + dept + ' queue for ' + spoken(t - W.start[i]) + (W.visit[i] > 1 ? ', the caller\'s queue number ' + W.visit[i] : '');
  }
  const with_ = [];
  const WITH = {ringing: 'ringing at the desk of ', talking: 'talking to ', on_hold: 'on hold with ',
    dialling: 'being dialled back by ', transferring: 'still on the line with '};
  A.id.forEach((_, i) => {
    const a = agentAt(i, t);
    if (a.call === id && WITH[a.state]) with_.push(WITH[a.state] + A.label[i] + ' (' + spoken(t - a.since) + ')');
  });
  if (with_.length) return with_.join('; ');
  return 'done: ' + C.outcomes[C.outcome[index]];
}
function drawFollowed(t, force) {
  const box = $('followed');
  if (live.followed === null || !callIndex.has(live.followed)) {
    if (force) box.innerHTML = '<p class="hint">Click a waiting caller or a busy desk to follow that caller ' +
      'and read their story here. Or follow the caller with the longest chain:</p><button id="longest">follow the longest chain</button>';
    return;
  }
  const index = callIndex.get(live.followed);
  if (force) {
    const reason = D.reasons[C.reason[index]] || '';
    const rows = callRows(index);
    box.innerHTML = '<div class="pin"><h2>Call ' + live.followed + ' <small>(' + esc(reason) + ', ' + esc(C.outcomes[C.outcome[index]]) +
      ', ' + C.agents_touched[index] + ' agent(s))</small></h2>' +
      '<button id="to-arrival">go to the call</button> <button id="unfollow">stop following</button>' +
      '<div id="now"></div></div><ol id="story">' + storyLines(index).map((l) =>
        '<li data-t="' + l[0] + '"><time>' + clock(l[0]) + '</time>' + esc(l[1]) + '</li>').join('') + '</ol>' +
      '<details><summary>the call\'s rows in the event table (' + rows.length + ')</summary>' +
      '<table id="followed-events"><tr><th>t</th><th>event</th><th>department</th><th>agent</th><th>detail</th></tr>' +
      rows.map((r) => '<tr data-t="' + r[0] + '"><td>' + clock(r[0]) + '</td><td>' + r[1] + '</td><td>' + esc(r[2] || '') +
        '</td><td>' + (r[3] >= 0 ? r[3] : '') + '</td><td>' + r[4] + '</td></tr>').join('') + '</table></details>';
  }
  $('now').textContent = clock(t) + ': ' + whereIs(index, t);
  let current = null;
  for (const li of box.querySelectorAll('#story li')) {
    const past = Number(li.dataset.t) <= t;
    li.className = past ? 'past' : '';
    if (past) current = li;
  }
  if (current) {
    current.className = 'past now';
    const side = box.closest('aside');  // keep the line for now in view as the day plays
    if (current !== live.line && side) {
      const top = current.offsetTop;
      if (top < side.scrollTop || top > side.scrollTop + side.clientHeight / 2) side.scrollTop = Math.max(0, top - side.clientHeight / 3);
    }
  }
  live.line = current;
  for (const tr of box.querySelectorAll('#followed-events tr[data-t]')) tr.className = Number(tr.dataset.t) <= t ? '' : 'future';
}

// ---- the loop and the controls -------------------------------------------------------------
let lastStatic = -1;
function draw() {
  const t = live.t;
  $('clock').textContent = clock(t);
  $('seek').value = t;
  const waiting = drawQueues(t), counts = drawDesks(t);
  drawStats(t, waiting, counts);
  drawTicker(t);
  drawArrows(t);
  drawStrip(t);
  drawFollowed(t, false);
  document.body.classList.toggle('paused', !live.playing);
  $('play').textContent = live.playing ? 'pause' : 'play';
  lastStatic = t;
}
function tick(now) {
  if (live.playing) {
    const elapsed = live.last === null ? 0 : Math.min(0.25, (now - live.last) / 1000);
    live.t = Math.min(END, live.t + elapsed * live.speed);
    if (live.t >= END) live.playing = false;
    draw();
  } else if (lastStatic !== live.t) draw();
  live.last = now;
  requestAnimationFrame(tick);
}
function play() { if (live.t >= END) live.t = 0; live.playing = true; live.last = null; draw(); }
function pause() { live.playing = false; draw(); }
function seek(t) { live.t = Math.max(0, Math.min(END, Number(t))); draw(); remember(); }
function speed(x) { live.speed = Number(x); $('speed').value = String(x); }
function follow(id) {
  live.followed = (id === null || id === undefined) ? null : Number(id);
  drawFollowed(live.t, true); draw(); remember();
}
let remembering = null;
function remember() {  // the instant and caller in the address, so that a link opens there (at most 4 a second)
  if (remembering === null) remembering = setTimeout(rememberNow, 250);
}
function rememberNow() {
  remembering = null;
  const hash = '#t=' + Math.round(live.t) + (live.followed !== null ? '&call=' + live.followed : '');
  if (location.hash !== hash) history.replaceState(null, '', hash);
}
$('play').addEventListener('click', () => (live.playing ? pause() : play()));
$('seek').max = END;
$('seek').addEventListener('input', (e) => seek(e.target.value));
$('speed').addEventListener('change', (e) => speed(e.target.value));
$('back').addEventListener('click', () => seek(live.t - 60));
$('forward').addEventListener('click', () => seek(live.t + 60));
$('slides').addEventListener('click', () => slides(!document.body.classList.contains('slides')));
document.addEventListener('click', (e) => {
  const target = e.target.closest('[data-call]');
  if (target && !target.closest('#followed')) { follow(Number(target.dataset.call)); return; }
  if (e.target.id === 'unfollow') follow(null);
  if (e.target.id === 'to-arrival' && live.followed !== null) seek(C.arrived_at[callIndex.get(live.followed)]);
  if (e.target.id === 'longest') {
    let best = 0;
    C.id.forEach((_, i) => { if (C.agents_touched[i] > C.agents_touched[best]) best = i; });
    follow(C.id[best]); seek(C.arrived_at[best]);
  }
});
document.addEventListener('keydown', (e) => {
  if (['INPUT', 'SELECT', 'BUTTON'].includes(e.target.tagName)) return;  // a focused control has its own keys
  if (e.key === ' ') { e.preventDefault(); live.playing ? pause() : play(); }
  if (e.key === 'ArrowRight') seek(live.t + 60);
  if (e.key === 'ArrowLeft') seek(live.t - 60);
  if (e.key === 's') slides(!document.body.classList.contains('slides'));
});
(function fromHash() {
  const found = /t=([0-9.]+)/.exec(location.hash), call = /call=([0-9]+)/.exec(location.hash);
  if (found) live.t = Math.min(END, Number(found[1]));
  if (call) live.followed = Number(call[1]);
  if (/slides=1/.test(location.hash)) document.body.classList.add('slides');
})();
speed(live.speed);
drawFollowed(live.t, true);
draw();
requestAnimationFrame(tick);

window.callsimReplay = {
  ready: true,
  play: play, pause: pause, seek: seek, speed: speed, follow: follow, slides: slides,
  state: function () {
    const t = live.t, index = live.followed === null ? undefined : callIndex.get(live.followed);
    return {
      t: t, playing: live.playing, speed: live.speed, ended_at: END, service_level: serviceLevelAt(t),
      slides: document.body.classList.contains('slides'),
      ticks: live.ticks || [],
      agents: A.id.map((id, i) => { const a = agentAt(i, t); return {id: id, state: a.state, call: a.call}; }),
      waiting: waitingAt(t).map((i) => ({call: W.call[i], kind: D.wait_kinds[W.kind[i]],
        department: D.departments[W.department[i]], since: W.start[i]})),
      followed: live.followed,
      followed_rows: index === undefined ? [] : callRows(index),
      followed_story: index === undefined ? [] : storyLines(index),
      shown_rows: document.querySelectorAll('#followed-events tr[data-t]').length,
      shown_story: document.querySelectorAll('#story li').length,
    };
  },
};
})();
"""
