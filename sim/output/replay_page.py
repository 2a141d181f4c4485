"""The replay page itself: HTML and style (no network, no external fonts), with the script
(`sim.output.replay_script`) and the run's data (`sim.output.replay`, in a JSON script element) inline."""

from __future__ import annotations

import html

from sim.output.replay_script import SCRIPT

STYLE = """
:root { --bg:#f6f7f9; --ink:#1d2430; --muted:#6b7485; --line:#d8dce3; --panel:#fff;
  --idle:#cfe8cf; --ringing:#ffb300; --talking:#4a7fd4; --on_hold:#9b59b6; --wrap_up:#7fb7b0;
  --on_break:#b0b0b0; --offline:#eeeeee; --dialling:#ff8a3d; --transferring:#e0567a;
  --ok:#2e9d57; --late:#e69b00; --bad:#d23c3c; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
  color:var(--ink); background:var(--bg); }
header { display:flex; flex-wrap:wrap; align-items:center; gap:12px 20px; padding:10px 16px;
  background:var(--panel); border-bottom:1px solid var(--line); position:sticky; top:0; z-index:5; }
h1 { font-size:17px; margin:0; }
.sub { color:var(--muted); font-size:12px; max-width:46em; }
#clock { font:600 28px/1 ui-monospace,Menlo,Consolas,monospace; min-width:5.2em; }
.controls { display:flex; align-items:center; gap:8px; flex-wrap:wrap; }
button, select { font:inherit; padding:4px 10px; border:1px solid var(--line); border-radius:6px;
  background:#fff; cursor:pointer; }
button:hover { background:#f0f3f8; }
#seek { width:min(46vw,560px); }
.stats { display:flex; gap:10px; flex-wrap:wrap; padding:8px 16px; }
.stat { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:5px 10px; min-width:7em; }
.stat b { display:block; font-size:22px; }
.stat span { color:var(--muted); font-size:12px; }
.stat.good b { color:var(--ok); } .stat.bad b { color:var(--bad); }
#strip { display:block; width:calc(100% - 32px); height:70px; margin:0 16px 6px; background:var(--panel);
  border:1px solid var(--line); border-radius:8px; cursor:pointer; }
main { display:grid; grid-template-columns:minmax(0,1fr) 360px; gap:12px; padding:0 16px 16px; }
#floor { position:relative; display:flex; flex-wrap:wrap; gap:12px; align-content:flex-start; }
#arrows { position:absolute; inset:0; pointer-events:none; z-index:3; }
.dept { background:var(--panel); border:1px solid var(--line); border-radius:10px; padding:8px 10px;
  min-width:260px; flex:1 1 300px; }
.dept h2 { font-size:15px; margin:0 0 4px; display:flex; justify-content:space-between; gap:8px; }
.dept h2 small { color:var(--muted); font-weight:400; }
.queue { min-height:30px; display:flex; flex-wrap:wrap; gap:4px; padding:4px; margin-bottom:6px;
  border:1px dashed var(--line); border-radius:6px; }
.queue:empty::after { content:"nobody waiting"; color:var(--muted); font-size:12px; }
.callbacks:empty, .queue[hidden] { display:none; }
.chip { font-size:12px; padding:2px 6px; border-radius:10px; color:#fff; background:var(--ok); cursor:pointer;
  white-space:nowrap; }
.chip.late { background:var(--late); } .chip.bad { background:var(--bad); }
.chip.cb { background:#fff; color:var(--ink); border:1px dashed var(--muted); }
.chip.menu { background:#8a93a6; }
.chip .bounce { background:#fff; color:var(--bad); border-radius:8px; padding:0 4px; margin-left:3px; font-weight:700; }
.more { font-size:12px; color:var(--muted); align-self:center; }
.desks { display:grid; grid-template-columns:repeat(auto-fill,minmax(92px,1fr)); gap:5px; }
.pool-label { font-size:12px; color:var(--muted); margin:4px 0 2px; }
.desk { border-radius:6px; padding:4px 6px; font-size:11px; background:var(--idle); min-height:44px;
  border:2px solid transparent; }
.desk b { display:block; font-size:11px; }
.desk.s-offline { background:var(--offline); color:#999; border:1px dashed #ccc; }
.desk.s-ringing { background:var(--ringing); animation:blink 0.8s steps(2) infinite; }
.desk.s-talking { background:var(--talking); color:#fff; } .desk.s-on_hold { background:var(--on_hold); color:#fff; }
.desk.s-wrap_up { background:var(--wrap_up); } .desk.s-on_break { background:var(--on_break);
  background-image:repeating-linear-gradient(45deg,transparent 0 5px,rgba(255,255,255,.35) 5px 10px); }
.desk.s-dialling { background:var(--dialling); } .desk.s-transferring { background:var(--transferring); color:#fff; }
.desk[data-call] { cursor:pointer; }
.followed { outline:3px solid #111; outline-offset:1px; }
@keyframes blink { 50% { filter:brightness(1.25); } }
.paused .desk.s-ringing { animation:none; }
aside { background:var(--panel); border:1px solid var(--line); border-radius:10px; padding:10px;
  align-self:start; position:sticky; top:96px; max-height:calc(100vh - 110px); overflow:auto; }
aside h2 { font-size:15px; margin:0 0 6px; }
#story { list-style:none; padding:0; margin:6px 0; }
#story li { padding:3px 0 3px 8px; border-left:3px solid var(--line); color:var(--muted); }
#story li.past { color:var(--ink); } #story li.now { border-left-color:var(--talking); background:#eef3fc; }
#story time { font:12px ui-monospace,Menlo,Consolas,monospace; margin-right:6px; }
.pin { position:sticky; top:-10px; background:var(--panel); padding-top:2px; z-index:1; }
#now { background:#f3f5f8; border-radius:6px; padding:6px 8px; margin:6px 0; }
table { border-collapse:collapse; font-size:11px; width:100%; }
td, th { border-bottom:1px solid var(--line); padding:2px 4px; text-align:left; }
tr.future td { color:#aaa; }
#ticker { list-style:none; padding:0; margin:4px 0 0; font-size:12px; }
#ticker li { padding:2px 0; border-bottom:1px solid #f0f0f0; }
.legend { display:flex; flex-wrap:wrap; gap:8px; font-size:12px; color:var(--muted); padding:0 16px 8px; }
.legend i { display:inline-block; width:12px; height:12px; border-radius:3px; vertical-align:-2px; margin-right:3px; }
.hint { color:var(--muted); font-size:12px; }
body.slides { zoom:1.6; }
body.slides #clock { font-size:34px; }
"""


def page(title: str, description: str, data_json: str, slides: bool = False) -> str:
    """The whole page; `data_json` is the run's data, already safe inside a script element. With `slides`,
    it opens in presentation mode (large type for a projector; the `s` key toggles it)."""
    name = html.escape(title)
    description = html.escape(description) + " " if description else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{name}: replay of the floor</title>
<style>{STYLE}</style></head>
<body class="paused{" slides" if slides else ""}">
<header>
  <div><h1>{name}: the floor, replayed</h1><div class="sub">{description}Every desk and queue as the day happens.
  Click a waiting caller or a busy desk to follow that caller.</div></div>
  <div id="clock">--:--:--</div>
  <div class="controls">
    <button id="play">play</button>
    <button id="back" title="one minute back">&#x25c0; 1m</button>
    <input id="seek" type="range" min="0" step="any" value="0" aria-label="time of day">
    <button id="forward" title="one minute on">1m &#x25b6;</button>
    <button id="slides" title="large type for a projector (key s)">slides</button>
    <label>speed <select id="speed">
      <option value="1">1&times; (real time)</option><option value="5">5&times;</option>
      <option value="15">15&times;</option><option value="30">30&times;</option>
      <option value="60">1 min/s</option><option value="180">3 min/s</option>
      <option value="600">10 min/s</option><option value="1800">30 min/s</option>
    </select></label>
  </div>
</header>
<div class="stats">
  <div class="stat" id="st-sl"><b></b><span></span></div>
  <div class="stat" id="st-rings"><b></b><span></span></div>
  <div class="stat" id="st-wait"><b></b><span></span></div>
  <div class="stat" id="st-agents"><b></b><span></span></div>
  <div class="stat" id="st-lost"><b></b><span></span></div>
  <div class="stat" id="st-moved"><b></b><span></span></div>
</div>
<canvas id="strip" title="click to jump to that time"></canvas>
<div class="legend" id="legend"></div>
<main>
  <div id="floor"><canvas id="arrows"></canvas></div>
  <aside><div id="followed"></div><h2>Just now</h2><ul id="ticker"></ul></aside>
</main>
<script type="application/json" id="replay-data">{data_json}</script>
<script>{SCRIPT}</script>
</body></html>
"""
