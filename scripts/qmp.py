#!/usr/bin/env python3
"""Send one QMP command to a QEMU and print its answer.

usage: scripts/qmp.py SOCKET COMMAND [ARGUMENTS-AS-JSON]

SOCKET is the unix socket of -qmp unix:SOCKET,server=on,wait=off (see
scripts/run-guest.sh --qmp).  Prints the "return" value as JSON and exits
0, or prints the error's class and description and exits 1.  Events that
arrive meanwhile are skipped.
"""
import json
import socket
import sys


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__.strip())
    args = json.loads(sys.argv[3]) if len(sys.argv) == 4 else {}
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(30)
    sock.connect(sys.argv[1])
    stream = sock.makefile("rwb")

    def answer():
        while True:
            line = stream.readline()
            if not line:
                sys.exit("qmp: connection closed")
            msg = json.loads(line)
            if "return" in msg or "error" in msg:
                return msg

    def send(cmd, arguments=None):
        req = {"execute": cmd}
        if arguments:
            req["arguments"] = arguments
        stream.write(json.dumps(req).encode() + b"\n")
        stream.flush()
        return answer()

    json.loads(stream.readline())  # the greeting
    send("qmp_capabilities")
    msg = send(sys.argv[2], args)
    if "error" in msg:
        print("qmp: %s: %s: %s" % (sys.argv[2], msg["error"].get("class"),
                                   msg["error"].get("desc")))
        sys.exit(1)
    print(json.dumps(msg["return"]))


if __name__ == "__main__":
    try:
        main()
    except (OSError, ValueError) as e:
        # No QEMU (yet, or any more), a timeout, or a garbled answer.
        sys.exit("qmp: %s: %s" % (sys.argv[1], e))
