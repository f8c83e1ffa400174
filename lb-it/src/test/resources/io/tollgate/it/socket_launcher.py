#!/usr/bin/env python3
"""What systemd does for a socket-activated service, for tests: it binds and listens on the
sockets itself and keeps them open while it starts, stops and restarts the service, which gets
them as descriptors 3, 4, ... with LISTEN_FDS, LISTEN_PID (the child's own pid) and LISTEN_FDNAMES.

  socket_launcher.py [--listen [NAME=]HOST:PORT]...

Prints "listening PORT..." once the sockets listen, then reads commands on stdin, one a line:
  start COMMAND  start COMMAND, its words separated by tabs (prints "started PID")
  term / kill    SIGTERM / SIGKILL to it (prints "signalled PID")
  wait           wait for it to exit (prints "exited PID STATUS", 128+N for signal N)
  quit           SIGKILL to a running child, close the sockets, exit
The child's stdout and stderr go to this process's stderr; stdout carries only the answers.
An unnamed socket is named "unknown", as systemd does without FileDescriptorName=.
"""
import fcntl
import os
import signal
import socket
import sys


def parse(argv):
    listens, i = [], 0
    while i < len(argv):
        if argv[i] != "--listen":
            sys.exit("unknown argument " + argv[i])
        spec = argv[i + 1]
        name = None
        if "=" in spec:
            name, spec = spec.split("=", 1)
        host, port = spec.rsplit(":", 1)
        listens.append((name, host, int(port)))
        i += 2
    return listens


def main():
    listens = parse(sys.argv[1:])
    sockets = []
    for name, host, port in listens:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, port))
        s.listen(1024)
        sockets.append((name, s))
    answer("listening " + " ".join(str(s.getsockname()[1]) for _, s in sockets))
    child = None
    for line in sys.stdin:
        verb, _, rest = line.rstrip("\n").partition(" ")
        if verb == "start" and child is None:
            child = start(rest.split("\t"), sockets)
            answer("started %d" % child)
        elif verb in ("term", "kill") and child is not None:
            os.kill(child, signal.SIGTERM if verb == "term" else signal.SIGKILL)
            answer("signalled %d" % child)
        elif verb == "wait" and child is not None:
            _, status = os.waitpid(child, 0)
            code = os.waitstatus_to_exitcode(status)
            answer("exited %d %d" % (child, code if code >= 0 else 128 - code))
            child = None
        elif verb == "quit":
            break
        else:
            answer("error " + verb)
    if child is not None:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)


def answer(text):
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def start(command, sockets):
    pid = os.fork()
    if pid:
        return pid
    try:
        # Descriptors 3.. in order, like systemd; dup2 clears close-on-exec on the copies.
        fds = [s.fileno() for _, s in sockets]
        moved = [fcntl.fcntl(fd, fcntl.F_DUPFD, 100) for fd in fds]  # out of the way of 3..
        for i, fd in enumerate(moved):
            os.dup2(fd, 3 + i)
        os.dup2(2, 1)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        env = dict(os.environ)
        env["LISTEN_PID"] = str(os.getpid())
        env["LISTEN_FDS"] = str(len(sockets))
        names = [name or "unknown" for name, _ in sockets]
        env["LISTEN_FDNAMES"] = ":".join(names)
        os.closerange(3 + len(sockets), 1024)
        os.execvpe(command[0], command, env)
    finally:
        os._exit(127)


if __name__ == "__main__":
    main()
