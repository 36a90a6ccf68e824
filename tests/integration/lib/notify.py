"""notify.py — plays systemd's side of sd_notify(3) for aldproxyd.

usage: notify.py ALDPROXYD CONFIG SOCKET_PATH PROXY_URL SVC_DN SVC_PW PROFILE_FILE

Starts aldproxyd with NOTIFY_SOCKET and WATCHDOG_USEC set, as a Type=notify
unit would, and checks the messages it sends: READY=1 only once clients can
bind, WATCHDOG=1 at half the interval, RELOADING=1 (with MONOTONIC_USEC) then
READY=1 around a good and a failed reload, STOPPING=1 at SIGTERM, and a clean
exit.  Then again on an abstract socket with a WATCHDOG_PID naming another
process: READY=1 arrives, WATCHDOG=1 never does.
"""
import os, signal, socket, subprocess, sys, time

daemon, config, sock_path, url, svc_dn, svc_pw, profile = sys.argv[1:8]


def receiver(addr):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(addr)
    s.settimeout(0.2)
    return s


def collect(s, until, stop):
    """messages (time, dict) until stop(msgs) is true or the deadline passes"""
    msgs = []
    while time.time() < until:
        try:
            data = s.recv(4096).decode()
        except socket.timeout:
            if stop(msgs):
                return msgs
            continue
        kv = dict(line.split("=", 1) for line in data.split("\n") if "=" in line)
        msgs.append((time.time(), kv))
        if stop(msgs):
            return msgs
    return msgs


def has(msgs, key, value=None):
    return any(key in m and (value is None or m[key] == value) for _, m in msgs)


def whoami():
    return subprocess.run(["ldapwhoami", "-x", "-H", url, "-D", svc_dn, "-w", svc_pw, "-o", "nettimeout=3"],
                          capture_output=True, timeout=10).returncode == 0


def start(env_extra):
    env = dict(os.environ, **env_extra)
    return subprocess.Popen([daemon, "-f", "-c", config], env=env, stdin=subprocess.DEVNULL,
                            stdout=open(config + ".notify.log", "a"), stderr=subprocess.STDOUT)


proc = None
try:
    s = receiver(sock_path)
    proc = start({"NOTIFY_SOCKET": sock_path, "WATCHDOG_USEC": "400000"})
    msgs = collect(s, time.time() + 15, lambda m: has(m, "READY"))
    assert has(msgs, "READY", "1"), "no READY=1 within 15 s: %r" % msgs
    ready = [m for _, m in msgs if m.get("READY") == "1"][0]
    assert ready.get("MAINPID") == str(proc.pid), "READY without our MAINPID: %r" % ready
    assert "STATUS" in ready, ready
    assert whoami(), "READY=1 was sent but a client cannot bind yet"
    print("ok - READY=1 (MAINPID=%s, STATUS=%r) once clients can bind" % (ready["MAINPID"], ready["STATUS"]))

    t0 = time.time()
    msgs = collect(s, t0 + 1.5, lambda m: sum("WATCHDOG" in x for _, x in m) >= 5)
    dogs = [t for t, m in msgs if m.get("WATCHDOG") == "1"]
    assert len(dogs) >= 5, "expected WATCHDOG=1 every 0.2 s, got %d in 1.5 s" % len(dogs)
    gaps = [b - a for a, b in zip(dogs, dogs[1:])]
    assert max(gaps) < 0.4, "watchdog gaps %r exceed the 0.4 s interval" % gaps
    print("ok - WATCHDOG=1 every %.2f s (interval 0.4 s)" % (sum(gaps) / len(gaps)))

    proc.send_signal(signal.SIGHUP)
    msgs = collect(s, time.time() + 5, lambda m: has(m, "RELOADING") and any(
        "READY" in x for _, x in m[[i for i, (_, y) in enumerate(m) if "RELOADING" in y][0]:]))
    rel = [m for _, m in msgs if "RELOADING" in m]
    assert rel and rel[0]["RELOADING"] == "1" and int(rel[0]["MONOTONIC_USEC"]) > 0, msgs
    after = [m for _, m in msgs if "READY" in m]
    assert after and "serving" in after[-1].get("STATUS", ""), msgs
    print("ok - SIGHUP: RELOADING=1 with MONOTONIC_USEC, then READY=1 (%s)" % after[-1]["STATUS"])

    good = open(profile).read()
    open(profile, "a").write("bogus_key: 1\n")
    proc.send_signal(signal.SIGHUP)
    msgs = collect(s, time.time() + 5, lambda m: any("READY" in x for _, x in m) and has(m, "RELOADING"))
    after = [m for _, m in msgs if "READY" in m]
    assert after and "reload failed" in after[-1].get("STATUS", ""), msgs
    open(profile, "w").write(good)
    assert whoami(), "the old set stopped serving after a failed reload"
    print("ok - a failed reload: READY=1 with STATUS=%r, still serving" % after[-1]["STATUS"])

    proc.send_signal(signal.SIGTERM)
    msgs = collect(s, time.time() + 8, lambda m: has(m, "STOPPING"))
    assert has(msgs, "STOPPING", "1"), msgs
    rc = proc.wait(timeout=10)
    assert rc == 0, "exit status %d" % rc
    print("ok - SIGTERM: STOPPING=1, exit 0")
    s.close()

    abstract = "@aldproxy-test-%d" % os.getpid()
    s = receiver("\0" + abstract[1:])
    proc = start({"NOTIFY_SOCKET": abstract, "WATCHDOG_USEC": "200000", "WATCHDOG_PID": "1"})
    msgs = collect(s, time.time() + 15, lambda m: has(m, "READY"))
    assert has(msgs, "READY", "1"), msgs
    msgs = collect(s, time.time() + 0.8, lambda m: False)
    assert not has(msgs, "WATCHDOG"), "WATCHDOG=1 sent though WATCHDOG_PID names another process: %r" % msgs
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    print("ok - abstract NOTIFY_SOCKET; no watchdog when WATCHDOG_PID is another process's")
finally:
    if proc is not None and proc.poll() is None:
        proc.kill()
        proc.wait()
