#!/usr/bin/python3
"""The closing table of scripts/bench.sh: ratios, each between two numbers
measured side by side in the same `make bench` run, plus the raw samples
as one CSV file and latency CDFs drawn with gnuplot.

    scripts/bench-report.py [--no-plot] [--net] [--rdma] [--rdma-loss] LOGDIR [RUN=MODEL ...]

LOGDIR holds the logs bench.sh wrote: host-memcpy.log and, per guest run,
guest-RUN.log (the serial console).  RUN=MODEL names each guest run's
timing model ("" when off), in order.  --net: the netdev benchmarks ran
too; their numbers are in guest 1's logs of the two guest pairs,
guest-net-dbnic.log.g1 (tables net-inline and net-ring) and
guest-net-virtio.log.g1 (net-virtio), see tests/guest/bench-net.sh.
--rdma: the RDMA benchmarks ran too (tests/guest/bench-rdma.sh); guest 1's
logs of the two guest pairs, guest-rdma.log.g1 (timing model off) and
guest-rdma-model.log.g1 (on), each with tables rdma-always, rdma-never
and rdma-rxe (the second pair's rxe may be left out: then its ratios use
the first pair's).  dbnic's numbers against rxe's; an rxe benchmark that
did not run ("n/a REASON") is shown as such, a dbnic one is missing.
--rdma-loss: the RDMA loss rows ran too: one guest pair per loss rate P
(percent), guest-rdma-loss-P.log (guest 0) and .log.g1 (guest 1), with
guest 1's tables rdma-rxe and one dbnic mode's (rdma-never or
rdma-always), ib_write_bw 1 MiB and ib_send_lat 64 B, and each guest's
rdma-counters; one table, a column per rate, dbnic against rxe, and the
counters of both guests.
Writes LOGDIR/samples.csv, LOGDIR/cdf-qd1.png, LOGDIR/cdf-doorbell.png,
LOGDIR/cdf-ping.png and LOGDIR/cdf.gp (the gnuplot script, to redraw
them); prints the table on stdout.  Exit status 1 if a number the table
needs is missing, or gnuplot is (--no-plot: no plots; tests/scripts/run.sh
checks the table that way).
"""
import os
import shutil
import subprocess
import sys


def blocks(lines, begin, end):
    """name -> lines between "<begin> name" and "<end> name"."""
    out, cur, name = {}, None, None
    for line in lines:
        if line.startswith(begin + " "):
            name, cur = line[len(begin) + 1:], []
        elif cur is not None and line == end + " " + name:
            out[name], cur = cur, None
        elif cur is not None:
            cur.append(line)
    return out


def serial_log(path):
    try:
        with open(path, errors="replace") as f:
            return [l.rstrip("\r\n").replace("\r", "") for l in f]
    except OSError:
        return []


def columns(table, first, key_words=1):
    """Rows of the table whose header line starts with the words in
    `first`, as dicts by column name; a row's first key_words words make
    its key (a size such as "1 MiB" is two words for one column)."""
    rows, head = [], None
    for line in table:
        w = line.split()
        if w[:len(first)] == first:
            head = w
        elif head and len(w) == len(head) + key_words - 1:
            row = {"key": " ".join(w[:key_words])}
            row.update(zip(head[1:], w[key_words:]))
            rows.append(row)
        elif head and not line.strip():
            head = None
    return rows


def num(v):
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def ab_rows(table):
    """The 'ring vs prio at qd 1' rows: (op, bytes) -> (ring_med, prio_med)."""
    return {(r["key"], num(r.get("bytes"))):
            (num(r.get("ring_med")), num(r.get("prio_med")))
            for r in columns(table, ["op", "bytes", "ring_med"])}


def bandwidth_1m(table):
    """The bandwidth table's 1 MiB row: qdN_MB/s."""
    for r in columns(table, ["size", "descs", "copies"], 2):
        if r["key"] == "1 MiB":
            return num(r.get("qdN_MB/s"))
    return None


def dblat_rows(table):
    """phase -> (median_ns, p99_ns)."""
    return {r["key"]: (num(r.get("median_ns")), num(r.get("p99_ns")))
            for r in columns(table, ["phase", "samples"])}


def host_memcpy_1m(path):
    for line in serial_log(path):
        w = line.split()
        if w[:2] == ["1", "MiB"] and len(w) >= 3:
            return float(w[2])
    return None


# The netdev benchmarks: where their tables are, what each number is.
NET_LOGS = (("inline", "guest-net-dbnic.log.g1"),
            ("ring", "guest-net-dbnic.log.g1"),
            ("virtio", "guest-net-virtio.log.g1"))
NET_MEASURES = (("pktgen 64 B frames TX", "pktgen_pps", "pps"),
                ("iperf3 TCP, 1 stream", "iperf_P1_Mbps", "Mbit/s"),
                ("iperf3 TCP, 4 streams", "iperf_P4_Mbps", "Mbit/s"),
                ("ping RTT median", "ping_med_us", "us"),
                ("ping RTT p99", "ping_p99_us", "us"))
NET_PAIRS = (("dbnic inline / virtio-net", "inline", "virtio"),
             ("dbnic ring only / virtio-net", "ring", "virtio"),
             ("dbnic inline / ring only", "inline", "ring"))
NET_NAMES = {"inline": "dbnic inline", "ring": "dbnic ring only",
             "virtio": "virtio-net"}

# The RDMA benchmarks (tests/guest/bench-rdma.sh): the guest pairs' logs,
# the benchmarks, and the number of each that the ratios use.
RDMA_LOGS = (("off", "guest-rdma.log.g1"), ("on", "guest-rdma-model.log.g1"))
RDMA_BENCHES = [(t, s) for t in ("ib_send_lat", "ib_write_lat", "ib_send_bw")
                for s in (64, 4096, 65536)] + [("ib_write_bw", 1048576)]
RDMA_DBNIC = ("always", "never")


def size_name(n):
    for unit, div in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= div and n % div == 0:
            return "%d %s" % (n // div, unit)
    return "%d B" % n


def rdma_tables(logdir):
    """model ("off", "on") -> mode -> (tool, size) -> (shown, basis),
    each the median of the rounds that ran:
    t_typical in us for latency (both); for bandwidth BW average in MB/s
    as perftest printed it (two decimals: rxe's 64 B rate can be 0.00)
    and MsgRate (six decimals, the same rate per message: the ratios
    use it).  Or the reason it is n/a (a string).  A mode without its
    table is left out."""
    out = {}
    mins = {}
    for model, name in RDMA_LOGS:
        tables = blocks(serial_log(os.path.join(logdir, name)),
                        "DBNIC-BENCH-BEGIN", "DBNIC-BENCH-END")
        for mode in RDMA_DBNIC + ("rxe",):
            if "rdma-" + mode not in tables:
                continue
            vals, rounds, nas = {}, {}, {}
            for line in tables["rdma-" + mode]:
                w = line.split()
                if len(w) < 3 or not w[0].startswith("ib_") or \
                        num(w[1]) is None:
                    continue
                key = (w[0], num(w[1]))
                if w[2] == "n/a":
                    nas.setdefault(key, " ".join(w[3:]) or "did not run")
                elif w[2] == "policy":
                    vals[key] = " ".join(w[2:])
                else:
                    f = dict(x.split("=", 1) for x in w[2:] if "=" in x)
                    if w[0].endswith("_lat"):
                        v = fnum(f.get("typ"))
                        b = v
                        mn = fnum(f.get("min"))
                        if mn is not None:
                            m = mins.setdefault(model, {}).setdefault(mode, {})
                            m[key] = min(m.get(key, mn), mn)
                    else:
                        v = fnum(f.get("bw"))
                        b = fnum(f.get("mpps")) or v
                    if v is not None and b:
                        rounds.setdefault(key, []).append((v, b))
                    elif v is not None:
                        nas.setdefault(key, "a rate of 0 (%s)" %
                                       " ".join(w[2:]))
            # Several rounds: the median of each number (a policy that
            # did not take effect in any round stays a failure); a
            # benchmark with no round that ran is n/a.
            for key, rs in rounds.items():
                if key not in vals:
                    vals[key] = (median([r[0] for r in rs]),
                                 median([r[1] for r in rs]))
            for key, why in nas.items():
                if key not in vals:
                    vals[key] = why
            out.setdefault(model, {})[mode] = vals
    out["t_min"] = mins
    return out


# The loss rows (tests/guest/bench-rdma.sh with LOSS, one guest pair per
# rate): their benchmarks, and the counters the table shows, in order
# (dbnic's of datasheet 11.9-11.11, rxe's retry counters, netem's drops).
RDMA_LOSS_BENCHES = (("ib_write_bw", 1048576), ("ib_send_lat", 64))
RDMA_LOSS_COUNTERS = (
    ("dbnic0", "roce_fault_tx_drop"), ("dbnic0", "roce_retx_pkts"),
    ("dbnic0", "roce_retry_timeout"), ("dbnic0", "roce_retry_seq"),
    ("dbnic0", "roce_rx_dup"), ("dbnic0", "roce_rx_seq"),
    ("dbnic0", "roce_nak_tx"), ("dbnic0", "roce_retry_exc"),
    ("dbnic0", "roce_tx_pkts"),
    ("netem", "dropped"), ("rxe0", "completer_retry_err"),
    ("rxe0", "rcvd_seq_err"), ("rxe0", "duplicate_request"),
    ("rxe0", "out_of_seq_request"), ("rxe0", "retry_exceeded_err"),
    ("rxe0", "sent_pkts"))


def rdma_loss_tables(logdir):
    """[(rate text, mode -> (tool, size) -> {field: number} or reason,
    [guest 0's counters, guest 1's] as {(source, name): number})], by
    rate.  Several rounds: the median of each field (t_min: the
    smallest); a benchmark with no round that ran is its first reason."""
    out = []
    pre, suf = "guest-rdma-loss-", ".log.g1"
    try:
        names = os.listdir(logdir)
    except OSError:
        names = []
    rates = [n[len(pre):-len(suf)] for n in names
             if n.startswith(pre) and n.endswith(suf)]
    rates = sorted((r for r in rates if fnum(r) is not None), key=float)
    for rate in rates:
        base = os.path.join(logdir, pre + rate + ".log")
        tables = blocks(serial_log(base + ".g1"), "DBNIC-BENCH-BEGIN",
                        "DBNIC-BENCH-END")
        modes = {}
        for mode in RDMA_DBNIC + ("rxe",):
            if "rdma-" + mode not in tables:
                continue
            rounds, nas = {}, {}
            for line in tables["rdma-" + mode]:
                w = line.split()
                if len(w) < 3 or not w[0].startswith("ib_") or \
                        num(w[1]) is None:
                    continue
                key = (w[0], num(w[1]))
                if w[2] == "n/a":
                    nas.setdefault(key, " ".join(w[3:]) or "did not run")
                elif w[2] == "policy":
                    nas.setdefault(key, " ".join(w[2:]))
                else:
                    f = {k: fnum(v) for k, v in
                         (x.split("=", 1) for x in w[2:] if "=" in x)}
                    rounds.setdefault(key, []).append(f)
            vals = {}
            for key, rs in rounds.items():
                fields = {}
                for name in set().union(*rs):
                    vs = [r[name] for r in rs if r.get(name) is not None]
                    if vs:
                        fields[name] = min(vs) if name == "min" \
                            else median(vs)
                vals[key] = fields
            # A policy that did not take effect in some round fails the
            # figure; a round that did not run leaves the others'.
            for key, why in nas.items():
                if key not in vals or why.startswith("policy"):
                    vals[key] = why
            modes[mode] = vals
        counters = []
        for path in (base, base + ".g1"):
            c = {}
            for line in blocks(serial_log(path), "DBNIC-BENCH-BEGIN",
                               "DBNIC-BENCH-END").get("rdma-counters", []):
                w = line.split()
                if len(w) == 3 and w[0] in ("dbnic0", "rxe0") and \
                        num(w[2]) is not None:
                    c[(w[0], w[1])] = num(w[2])
                elif len(w) == 6 and w[0] == "qdisc":
                    c[("netem", "sent")] = num(w[3])
                    c[("netem", "dropped")] = num(w[5])
            counters.append(c)
        out.append((rate, modes, counters))
    return out


def print_rdma_loss(loss):
    """The loss table: a column per rate, rxe, dbnic and their ratio per
    figure, then the counters; returns the dbnic figures missing."""
    missing = []
    dmode = next((m for m in RDMA_DBNIC
                  if any(m in modes for _r, modes, _c in loss)),
                 RDMA_DBNIC[-1])
    print("\nRDMA under loss, perftest 4.5 between two guests (guest 1 the "
          "client), tests/guest/bench-rdma.sh, one pair of guests per "
          "rate: each guest loses the rate's share of the packets it "
          "transmits, dbnic through its fault injection (roce-tx-drop "
          "on both ports, datasheet 11.11), rxe through netem on both "
          "virtio-net NICs; dbnic with DBNIC_PRIORITY=%s; ratio: dbnic / "
          "rxe" % dmode)
    w0 = 38
    print("%-*s  %s" % (w0, "loss",
                        " ".join("%12s" % (r + "%") for r, _m, _c in loss)))
    notes = []
    figures = []
    for tool, size in RDMA_LOSS_BENCHES:
        if tool.endswith("_lat"):
            figures += [(tool, size, f, n, "us") for f, n in
                        (("typ", "t_typical"), ("min", "t_min"),
                         ("avg", "t_avg"))]
        else:
            figures.append((tool, size, "bw", "BW average", "MB/s"))
    for tool, size, field, name, unit in figures:
        key = (tool, size)
        rows = {"rxe": [], dmode: [], "ratio": []}
        for rate, modes, _c in loss:
            vs = {}
            for m in ("rxe", dmode):
                v = modes.get(m, {}).get(key)
                if isinstance(v, str):
                    note = "%s %s, %s, loss %s%%: %s" % (
                        tool, size_name(size), m, rate, v)
                    if note not in notes:
                        notes.append(note)
                    vs[m] = None
                    rows[m].append("n/a")
                elif v is None or v.get(field) is None:
                    vs[m] = None
                    rows[m].append("-")
                else:
                    vs[m] = v[field]
                    rows[m].append("<0.01" if not v[field] else
                                   fmt(v[field]))
                if m != "rxe" and vs[m] is None and field != "avg":
                    missing.append("%s %s %s, dbnic %s, loss %s%%" % (
                        tool, size_name(size), name, m, rate))
            a, b = vs[dmode], vs["rxe"]
            rows["ratio"].append("%.2f" % (a / b) if a and b else "-")
        print("%s %s, %s (%s)" % (tool, size_name(size), name, unit))
        for m, head in (("rxe", "rxe"), (dmode, "dbnic " + dmode),
                        ("ratio", "dbnic / rxe")):
            print("%-*s  %s" % (w0, "  " + head,
                                " ".join("%12s" % c for c in rows[m])))
    print("counters since boot (both benchmarks), guest 0 / guest 1 (the "
          "client):")
    for src, name in RDMA_LOSS_COUNTERS:
        cells = []
        for _r, _m, counters in loss:
            vs = [c.get((src, name)) for c in counters]
            # rxe prints only the counters that are not 0.
            if src == "rxe0":
                vs = [0 if v is None and c.get(("netem", "sent")) is not None
                      else v for v, c in zip(vs, counters)]
            cells.append("-" if all(v is None for v in vs) else
                         "/".join("-" if v is None else str(v) for v in vs))
        print("%-*s  %s" % (w0, "%s %s" % ("rxe's NIC, netem" if src == "netem"
                                          else src, name),
                            " ".join("%12s" % c for c in cells)))
    for n in notes:
        print("n/a: %s" % n)
    return missing


def rdma_value(rdma, model, mode, key):
    """A number, a reason string, or None (no table, no line).  The
    model pair's rxe falls back to the first pair's."""
    m = rdma.get(model, {})
    if mode == "rxe" and "rxe" not in m:
        m = rdma.get("off", {})
    return m.get(mode, {}).get(key)


def fnum(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def median(vs):
    """The middle value (the lower one of the two middle ones)."""
    vs = sorted(vs)
    return vs[(len(vs) - 1) // 2] if vs else None


def net_tables(logdir):
    """mode -> ({word: number}, [ping RTT samples in us]) of each mode
    whose table is there; a word on several lines (one per round) gets
    the median of their numbers."""
    out = {}
    for mode, name in NET_LOGS:
        lines = serial_log(os.path.join(logdir, name))
        table = blocks(lines, "DBNIC-BENCH-BEGIN", "DBNIC-BENCH-END")
        if "net-" + mode not in table:
            continue
        rounds = {}
        for line in table["net-" + mode]:
            w = line.split()
            if len(w) == 2 and not w[0].startswith("#") and \
                    fnum(w[1]) is not None:
                rounds.setdefault(w[0], []).append(fnum(w[1]))
        vals = {k: median(v) for k, v in rounds.items()}
        rtts = []
        for line in blocks(lines, "DBNIC-CSV-BEGIN",
                           "DBNIC-CSV-END").get("ping-" + mode, [])[1:]:
            w = line.split(",")
            if len(w) == 2 and fnum(w[1]) is not None:
                rtts.append((w[0], fnum(w[1])))
        out[mode] = (vals, rtts)
    return out


def main():
    args = sys.argv[1:]
    plot = True
    net = False
    rdma_on = False
    loss_on = False
    while args and args[0] in ("--no-plot", "--net", "--rdma", "--rdma-loss"):
        if args[0] == "--no-plot":
            plot = False
        elif args[0] == "--rdma":
            rdma_on = True
        elif args[0] == "--rdma-loss":
            loss_on = True
        else:
            net = True
        args = args[1:]
    logdir = args[0]
    runs = []
    for arg in args[1:]:
        tag, _, model = arg.partition("=")
        runs.append((tag, model))

    rows = []        # (measure, run, a, b, ratio text)
    missing = []

    def ratio(measure, tag, a, b, unit):
        if a is None or b is None or not b:
            rows.append((measure, tag, "-", "-", "no result"))
            missing.append("%s (%s)" % (measure, tag))
            return
        rows.append((measure, tag, "%s %s" % (fmt(a), unit),
                     "%s %s" % (fmt(b), unit), "%.2f" % (a / b)))

    memcpy = host_memcpy_1m(os.path.join(logdir, "host-memcpy.log"))
    csv = [("run", "source", "series", "sample", "ns")]
    series = {}      # (tag, name) -> sorted ns
    for tag, _model in runs:
        lines = serial_log(os.path.join(logdir, "guest-%s.log" % tag))
        tables = blocks(lines, "DBNIC-BENCH-BEGIN", "DBNIC-BENCH-END")
        raw = blocks(lines, "DBNIC-CSV-BEGIN", "DBNIC-CSV-END")
        k = ab_rows(tables.get("kernel", []))
        u = ab_rows(tables.get("user", []))
        for where, ab in (("kernel", k), ("user space", u)):
            for op, size in (("nop", 0), ("copy", 64)):
                r, p = ab.get((op, size), (None, None))
                ratio("QD1 latency, %s%s, %s: priority / ring" %
                      (op.upper(), " %u B" % size if size else "", where),
                      tag, p, r, "ns")
        ratio("1 MiB COPY bandwidth at depth (kernel): dbnic / host memcpy",
              tag, bandwidth_1m(tables.get("kernel", [])), memcpy, "MB/s")
        d = dblat_rows(tables.get("dblat", []))
        for i, what in ((0, "median"), (1, "p99")):
            ratio("doorbell store latency, %s: loaded / idle" % what, tag,
                  d.get("loaded", (None, None))[i],
                  d.get("idle", (None, None))[i], "ns")

        for line in raw.get("qd1", [])[1:]:
            w = line.split(",")
            if len(w) == 5:
                name = "%s%s-%s" % (w[0], "" if w[1] == "0" else w[1], w[2])
                csv.append((tag, "dbnic-bench-qd1", name, w[3], w[4]))
                series.setdefault((tag, name), []).append(int(w[4]))
        for line in raw.get("dblat", [])[1:]:
            w = line.split(",")
            if len(w) == 3:
                csv.append((tag, "dbnic-loadtest-dblat", w[0], w[1], w[2]))
                series.setdefault((tag, "doorbell-" + w[0]), []).append(int(w[2]))
    nets = net_tables(logdir) if net else {}
    if net:
        for what, key, unit in NET_MEASURES:
            for pair, a, b in NET_PAIRS:
                ratio("%s: %s" % (what, pair), "net",
                      nets.get(a, ({}, []))[0].get(key),
                      nets.get(b, ({}, []))[0].get(key), unit)
        for mode, (_vals, rtts) in sorted(nets.items()):
            for sample, us in rtts:
                csv.append(("net", "ping", mode, sample, "%.0f" % (us * 1000)))
                series.setdefault(("net", "ping-" + mode), []).append(
                    int(us * 1000))
    else:
        rows.append(("dbnic vs virtio-net", "-", "-", "-",
                     "n/a: netdev benchmarks not run (bench-report.py --net)"))
    rdma = rdma_tables(logdir) if rdma_on else {}
    if rdma_on:
        for tool, size in RDMA_BENCHES:
            lat = tool.endswith("_lat")
            for model in ("off", "on"):
                run = "rdma" if model == "off" else "rdma-model"
                b = rdma_value(rdma, model, "rxe", (tool, size))
                for mode in RDMA_DBNIC:
                    measure = "%s %s, %s: dbnic %s / rxe" % (
                        tool, size_name(size),
                        "t_typical" if lat else "BW average", mode)
                    a = rdma_value(rdma, model, mode, (tool, size))
                    unit = "us" if lat else "MB/s"
                    if not isinstance(a, tuple):
                        # A dbnic benchmark must run: missing.
                        ratio(measure, run, None, None, unit)
                    elif isinstance(b, str):
                        rows.append((measure, run, "%s %s" % (fmt(a[0]), unit),
                                     "n/a", "n/a (rxe: %s)" % b))
                    elif b is None:
                        ratio(measure, run, a[0], None, unit)
                    else:
                        rows.append((measure, run,
                                     "%s %s" % (fmt(a[0]), unit),
                                     "%s %s" % (fmt(b[0]) if b[0] else "<0.01",
                                                unit),
                                     "%.2f" % (a[1] / b[1])))
    elif not loss_on:
        rows.append(("dbnic vs rxe (soft RoCE)", "-", "-", "-",
                     "n/a: RDMA benchmarks not run (bench-report.py --rdma)"))

    print("ratios, each of two numbers from this run (a / b); runs:")
    for tag, model in runs:
        print("  %-11s timing model %s" % (tag, model or "off"))
    if memcpy is not None:
        print("  host memcpy: tests/bench/bench_memcpy.c, 1 MiB, on the host")
    if net:
        print("  net         two guests, guest 1 sends to guest 0 "
              "(tests/guest/bench-net.sh): dbnic with the inline-prio flag "
              "on, off (ring only); virtio-net")
    w0 = max(len(r[0]) for r in rows)
    w1 = max([len(r[1]) for r in rows] + [3])
    print("%-*s  %-*s  %16s  %16s  %s" % (w0, "measure", w1, "run", "a", "b",
                                          "a / b"))
    for r in rows:
        print("%-*s  %-*s  %16s  %16s  %s" % (w0, r[0], w1, r[1], r[2], r[3],
                                              r[4]))

    if net:
        print_net(nets)
    if rdma_on:
        print_rdma(rdma)
    if loss_on:
        loss = rdma_loss_tables(logdir)
        if loss:
            missing += print_rdma_loss(loss)
        else:
            missing.append("RDMA loss rows (no guest-rdma-loss-*.log.g1)")

    path = os.path.join(logdir, "samples.csv")
    with open(path, "w") as f:
        for r in csv:
            f.write(",".join(r) + "\n")
    print("\nraw samples: %s (%d rows)" % (path, len(csv) - 1))
    plots = draw(logdir, runs, series) if plot else []
    for p in plots or []:
        print("plot: %s" % p)
    if missing:
        print("missing: " + "; ".join(missing))
    return 1 if missing or plots is None else 0


def fmt(v):
    if isinstance(v, float) and v < 100 and v != int(v):
        return "%.3g" % v
    return "%.0f" % v if isinstance(v, float) else str(v)


def print_net(nets):
    """The netdev numbers themselves, one column per mode."""
    modes = [m for m, _ in NET_LOGS]
    print("\nnetdev benchmarks, absolute (guest 1 sends; tx_inline: its "
          "frames posted inline, of tx_frames)")
    keys = [(what + ", " + unit, key) for what, key, unit in NET_MEASURES]
    keys += [("sender's frames (dbnic)", "tx_frames"),
             ("of them inline, driver (dbnic)", "tx_inline"),
             ("of them inline, device (dbnic)", "dev_tx_inline")]
    w0 = max(len(k[0]) for k in keys)
    print("%-*s  %s" % (w0, "measure",
                        "  ".join("%16s" % NET_NAMES[m] for m in modes)))
    for what, key in keys:
        cells = []
        for m in modes:
            v = nets.get(m, ({}, []))[0].get(key)
            cells.append("%16s" % ("-" if v is None else fmt(v)))
        print("%-*s  %s" % (w0, what, "  ".join(cells)))


def print_rdma(rdma):
    """The RDMA numbers and their ratios to rxe, timing model off and
    on side by side: the issue's table."""
    print("\nRDMA, perftest 4.5 between two guests (guest 1 the client), "
          "tests/guest/bench-rdma.sh; latency: t_typical in us (lower is "
          "better), bandwidth: BW average in MB/s (higher is better); "
          "ratio: dbnic / rxe; rxe: soft RoCE on virtio-net in the same "
          "guests")
    head = ("rxe", "always", "never", "alw/rxe", "nev/rxe")
    w0 = 24
    print("%-*s  %-39s  %s" % (w0, "", "timing model off",
                                "timing model on (gen3x8)"))
    print("%-*s  %s  %s" % (w0, "benchmark",
                            " ".join("%7s" % h for h in head),
                            " ".join("%7s" % h for h in head)))
    notes = []
    for tool, size in RDMA_BENCHES:
        key = (tool, size)
        cells = []
        for model in ("off", "on"):
            modes = ("rxe",) + RDMA_DBNIC
            vals = [rdma_value(rdma, model, m, key) for m in modes]
            for m, v in zip(modes, vals):
                note = "%s %s, %s, timing model %s: %s" % (
                    tool, size_name(size), m, model, v)
                # The first pair's rxe, shown again: noted once.
                again = m == "rxe" and model == "on" and \
                    "rxe" not in rdma.get("on", {})
                if isinstance(v, str) and note not in notes and not again:
                    notes.append(note)
            cells += ["%7s" % ("-" if v is None else "n/a" if
                               isinstance(v, str) else "<0.01" if not v[0]
                               else fmt(v[0])) for v in vals]
            for v in vals[1:]:
                ok = all(isinstance(x, tuple) for x in (v, vals[0]))
                cells.append("%7s" % ("%.2f" % (v[1] / vals[0][1])
                                      if ok else "-"))
        unit = "us" if tool.endswith("_lat") else "MB/s"
        print("%-*s  %s  %s" % (w0, "%s %s (%s)" % (tool, size_name(size),
                                                    unit),
                                " ".join(cells[:5]), " ".join(cells[5:])))
    if "rxe" not in rdma.get("on", {}):
        print("(timing model on: rxe from the first pair; its second "
              "pair ran dbnic only)")
    # t_min: the round trip that no host preemption lengthened; under
    # TCG on a shared host t_typical carries the host's scheduling.
    mins = rdma.get("t_min", {})
    if mins:
        print("latency t_min in us (the fastest of the iterations):")
        for tool, size in RDMA_BENCHES:
            if not tool.endswith("_lat"):
                continue
            cells = []
            for model in ("off", "on"):
                mm = mins.get(model, {})
                if "rxe" not in mm:
                    mm = dict(mm, rxe=mins.get("off", {}).get("rxe", {}))
                vals = [mm.get(m, {}).get((tool, size))
                        for m in ("rxe",) + RDMA_DBNIC]
                cells += ["%7s" % ("-" if v is None else fmt(v))
                          for v in vals]
                cells += ["%7s" % ("%.2f" % (v / vals[0]) if v and vals[0]
                                   else "-") for v in vals[1:]]
            print("%-*s  %s  %s" % (w0, "%s %s (us)" % (tool, size_name(size)),
                                    " ".join(cells[:5]), " ".join(cells[5:])))
    for n in notes:
        print("n/a: %s" % n)


def draw(logdir, runs, series):
    """CDFs with gnuplot; the list of files, or None if gnuplot is absent."""
    if not shutil.which("gnuplot"):
        print("no gnuplot: no plots (scripts/setup-host.sh --bench installs it)")
        return None
    pdir = os.path.join(logdir, "plot")
    os.makedirs(pdir, exist_ok=True)
    plots = []
    script = ["set terminal pngcairo size 1000,640",
              "set logscale x", "set grid", "set key bottom right",
              "set ylabel 'fraction of samples'", "set yrange [0:1]"]
    for out, title, names in (
            ("cdf-qd1.png", "QD1 post-to-CQE latency, user space (dbnic-bench, "
             "alternating ring and priority posts)",
             ("nop-ring", "nop-prio")),
            ("cdf-doorbell.png", "doorbell store latency (dbnic-loadtest dblat)",
             ("doorbell-idle", "doorbell-loaded")),
            ("cdf-ping.png", "ping round-trip time, two guests "
             "(tests/guest/bench-net.sh)",
             ("ping-inline", "ping-ring", "ping-virtio"))):
        curves = []
        # One colour per run; the second series of each pair dashed.
        for ri, (tag, model) in enumerate(runs):
            for ni, name in enumerate(names):
                s = sorted(series.get((tag, name), []))
                if not s:
                    continue
                dat = os.path.join(pdir, "%s-%s.dat" % (tag, name))
                with open(dat, "w") as f:
                    for i, v in enumerate(s):
                        f.write("%.3f %.6f\n" % (v / 1000.0, (i + 1) / len(s)))
                label = "%s, model %s" % (name, model or "off")
                curves.append("'%s' using 1:2 with lines lw 2 lc %d dt %d "
                              "title '%s'" % (dat, ri + 1, ni + 1,
                                              label.replace("'", "")))
        if out == "cdf-ping.png":
            # One run (the netdev pair), one colour per mode.
            for ni, name in enumerate(names):
                s = sorted(series.get(("net", name), []))
                if not s:
                    continue
                dat = os.path.join(pdir, "net-%s.dat" % name)
                with open(dat, "w") as f:
                    for i, v in enumerate(s):
                        f.write("%.3f %.6f\n" % (v / 1000.0, (i + 1) / len(s)))
                curves.append("'%s' using 1:2 with lines lw 2 lc %d title '%s'"
                              % (dat, ni + 1, name))
        if not curves:
            continue
        script += ["set output '%s'" % os.path.join(logdir, out),
                   "set title '%s'" % title, "set xlabel 'microseconds'",
                   "plot " + ", \\\n     ".join(curves)]
        plots.append(os.path.join(logdir, out))
    gp = os.path.join(logdir, "cdf.gp")
    with open(gp, "w") as f:
        f.write("\n".join(script) + "\n")
    if subprocess.call(["gnuplot", gp]) != 0:
        print("gnuplot failed on %s" % gp)
        return None
    return plots + [gp]


if __name__ == "__main__":
    sys.exit(main())
