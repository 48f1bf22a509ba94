"""Setting the stage: seed the databases, start vpnaas and the ceilings.

Each vpnaas server gets a copy of one seeded template with as many
connections as its figures need; each ceiling gets what vpnaas answered
for the same request, fetched once (``bench/README.md``).
"""

from __future__ import annotations

import json
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from bench import seed
from bench.scenarios import CONNS, FLOOR, HEADERS, LIST_SIZES, Figure, Options, log, target_of
from bench.servers import Process, ceiling_command, free_port, vpnaas_command

__all__ = ["Setup", "setup"]


@dataclass
class Setup:
    topo: seed.Topology
    servers: dict[str, Process]
    ceilings: dict[str, Process]
    ids: dict[str, Path]
    show_id: str
    create_body: str
    seed_seconds: dict[str, float]
    body_bytes: dict[str, int] = field(default_factory=dict)

    def all(self) -> list[Process]:
        return [*self.servers.values(), *self.ceilings.values()]


def setup(opts: Options, figs: list[Figure]) -> Setup:
    """Seed, start the vpnaas servers, record their answers, start the ceilings."""
    needed = {f.server for f in figs}
    topo, dbs, ids, took = _seed_all(opts, needed)
    servers = {
        name: Process(
            name,
            vpnaas_command(db, port := free_port(), 2 if name == "n1000x2" else 1),
            port,
            opts.workdir / f"{name}.log",
            workers=2 if name == "n1000x2" else 1,
        )
        for name, db in dbs.items()
        if name in needed or (name == "write" and FLOOR in needed)
    }
    create_body = json.dumps(topo.create_body())
    st = Setup(topo, servers, {}, ids, topo.template_connections[0], create_body, took)
    _start(list(servers.values()))
    log(f"started vpnaas: {', '.join(f'{n} (pid {p.pid})' for n, p in servers.items())}")
    data = opts.workdir / "ceilings"
    data.mkdir(exist_ok=True)
    _record_answers(st, figs, data)
    _start_ceilings(st, opts, figs, data)
    log(f"started ceilings: {', '.join(f'{n} (pid {p.pid})' for n, p in st.ceilings.items())}")
    return st


def _seed_all(
    opts: Options, needed: set[str]
) -> tuple[seed.Topology, dict[str, Path], dict[str, Path], dict[str, float]]:
    work = opts.workdir
    template = work / "template.sqlite"
    topo = seed.build_template(template)
    dbs: dict[str, Path] = {}
    took: dict[str, float] = {}
    ids: dict[str, Path] = {}
    plan = {f"n{n}": n for n in LIST_SIZES} | {"big": opts.big, "write": 1000}
    if "n1000x2" in needed:
        needed = needed | {"n1000"}
    if FLOOR in needed:
        needed = needed | {"write"}
    for name, count in plan.items():
        if name not in needed:
            continue
        path = work / f"{name}.sqlite"
        seed.copy_db(template, path)
        started = time.perf_counter()
        made = seed.add_connections(path, count - 2)
        if name == "write":
            (work / "update.ids").write_text("\n".join(made) + "\n")
            ids["update"] = work / "update.ids"
            pool = seed.add_connections(path, opts.delete_pool, start=count, prefix="del-")
            (work / "delete.ids").write_text("\n".join(pool) + "\n")
            ids["delete"] = work / "delete.ids"
        took[name] = time.perf_counter() - started
        dbs[name] = path
        log(f"seeded {name}: {count:,} connections in {took[name]:.1f}s")
    if "n1000x2" in needed:
        dbs["n1000x2"] = work / "n1000x2.sqlite"
        seed.copy_db(dbs["n1000"], dbs["n1000x2"])
    if FLOOR in needed:  # the floor app finds it in the ceilings' data directory
        (work / "ceilings").mkdir(exist_ok=True)
        seed.copy_db(dbs["write"], work / "ceilings" / "floor.sqlite")
    return topo, dbs, ids, took


def _record_answers(st: Setup, figs: list[Figure], data: Path) -> None:
    """What the ceilings answer: vpnaas's own answers, fetched once."""
    # ceiling (a): the exact bytes vpnaas answers for each read
    index: dict[str, str] = {}
    for fig in figs:
        if fig.ceiling.startswith("static"):
            target = target_of(fig, st.show_id)
            body = _fetch(st.servers[fig.server].base + target)
            name = f"{fig.key}.body"
            (data / name).write_bytes(body)
            index[f"/{fig.key}{target}"] = name
            st.body_bytes[fig.key] = len(body)
    (data / "static.json").write_text(json.dumps(index, indent=1))
    if any(f.ceiling == "insert" for f in figs):
        # what vpnaas answers for a create (one request, in the write database)
        req = urllib.request.Request(
            st.servers["write"].base + CONNS,
            data=st.create_body.encode(),
            method="POST",
            headers={**dict(HEADERS), "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=60) as resp:
            (data / "create.json").write_bytes(resp.read())
        (data / "insert.sqlite").unlink(missing_ok=True)


def _start_ceilings(st: Setup, opts: Options, figs: list[Figure], data: Path) -> None:
    """One ceiling server per kind the figures name, and the create floor."""
    for kind in sorted({f.ceiling for f in figs}):
        workers = 2 if kind == "static2" else 1
        app = "insert" if kind == "insert" else "static"
        port = free_port()
        st.ceilings[kind] = Process(
            f"ceiling-{kind}",
            ceiling_command(app, port, workers, data),
            port,
            opts.workdir / f"ceiling-{kind}.log",
            workers=workers,
        )
    floor = any(f.server == FLOOR for f in figs)
    if floor:
        port = free_port()
        st.servers[FLOOR] = Process(
            FLOOR, ceiling_command(FLOOR, port, 1, data), port, opts.workdir / "floor.log"
        )
    _start(list(st.ceilings.values()) + ([st.servers[FLOOR]] if floor else []))


def _fetch(url: str) -> bytes:
    req = urllib.request.Request(url, headers=dict(HEADERS))
    with urllib.request.urlopen(req, timeout=120) as resp:
        if resp.status != 200:
            raise RuntimeError(f"GET {url} -> {resp.status}")
        body: bytes = resp.read()
        return body


def _start(procs: list[Process]) -> None:
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.wait_ready()
