"""The live game-day view: a loopback page that follows a run as it goes (server-sent events).

`board.LiveBoard` holds what the run's monitor computes each tick; `server.LiveServer`
serves the page (assets in `static/`, shipped as package data) and streams the board.
The orchestration talks to the one board of this process through `hub` (a few calls:
run started, tick, phase, run finished), so runs and trials need no extra parameter.
"""
