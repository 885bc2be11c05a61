#!/usr/bin/env python3
"""seeds.py - writes the hand-made seed inputs of the fuzz targets into
corpus/<target>/seed-* (the encodings follow proto/clus/v1/*.proto; a tiny
protobuf writer is enough for that). Run it again after a proto change:
    python3 tests/fuzz/seeds.py
Found inputs (libFuzzer's) and regression-* inputs are kept as they are.
"""
import os
import shutil
import struct
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def varint(n):
    out = bytearray()
    n &= (1 << 64) - 1
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def zigzag(n):
    return (n << 1) ^ (n >> 63)


def f_int(num, value):  # uint32/uint64/bool/enum
    return varint(num << 3) + varint(value)


def f_sint(num, value):
    return varint(num << 3) + varint(zigzag(value))


def f_bytes(num, value):
    if isinstance(value, str):
        value = value.encode()
    return varint((num << 3) | 2) + varint(len(value)) + value


def msg(*fields):
    return b"".join(fields)


def param(k, v):
    return msg(f_bytes(1, k), f_bytes(2, v))


def request(rid, num, body):
    return msg(f_int(1, rid), f_bytes(num, body))


# ---------------------------------------------------------------- agent calls
def agent_calls():
    ref = lambda name: msg(f_bytes(1, name))
    s = {}
    s["open"] = request(1, 10, msg(f_bytes(1, "r1"), f_bytes(2, "dummy"),
                                   f_bytes(3, param("online_delay_ms", "5")),
                                   f_bytes(3, param("progress_ms", "1"))))
    s["open-v2-recover"] = request(2, 11, msg(f_bytes(1, "r2"), f_bytes(2, "dummy"), f_int(4, 1)))
    s["open-bad-name"] = request(3, 10, msg(f_bytes(1, "../x"), f_bytes(2, "dummy")))
    s["open-unknown-type"] = request(4, 10, msg(f_bytes(1, "r3"), f_bytes(2, "nosuch")))
    s["close"] = request(5, 12, ref("web"))
    s["online"] = request(6, 13, ref("web"))
    s["online-v2-flags"] = request(7, 14, msg(f_bytes(1, "web"), f_int(2, 0x14), f_bytes(3, b"\x00\x01")))
    s["offline"] = request(8, 15, ref("db"))
    s["offline-v2-dest"] = request(9, 16, msg(f_bytes(1, "db"), f_int(2, 0x2), f_bytes(3, "n2")))
    s["terminate"] = request(10, 17, ref("db"))
    s["looks-alive"] = request(11, 18, ref("db"))
    s["is-alive-cached"] = request(12, 19, msg(f_bytes(1, "db"), f_int(2, 1)))
    s["arbitrate"] = request(13, 20, ref("web"))
    s["release"] = request(14, 21, ref("web"))
    s["control-get-props"] = request(15, 22, msg(f_bytes(1, "db"), f_int(3, 0x01000081)))
    s["control-set-props"] = request(16, 22, msg(f_bytes(1, "web"), f_int(3, 0x01400086),
                                                 f_bytes(5, param("fail_online", "true"))))
    s["type-control"] = request(17, 23, msg(f_bytes(2, "dummy"), f_int(3, 0x02000005)))
    s["begin-control"] = request(18, 24, msg(f_bytes(1, "db"), f_int(3, 0x01000029)))
    s["begin-control-as-user"] = request(19, 25, msg(f_bytes(1, "db"), f_int(3, 0x01000029),
                                                     f_bytes(7, "nobody")))
    s["begin-type-control"] = request(20, 26, msg(f_bytes(2, "dummy"), f_int(3, 0x02000005)))
    s["begin-type-control-as-user"] = request(21, 27, msg(f_bytes(2, "dummy"), f_int(3, 0x02000005),
                                                          f_bytes(7, "root")))
    s["cancel"] = request(22, 28, msg(f_bytes(1, "web"), f_int(2, 0)))
    s["startup"] = request(23, 29, msg(f_bytes(1, "dummy"), f_int(2, 0x100), f_int(3, 0x100)))
    s["startup-ex"] = request(24, 30, msg(f_bytes(1, "dummy"), f_int(2, 0x200), f_int(3, 0x100)))
    s["list-types"] = request(25, 31, b"")
    s["load-plugin"] = request(26, 32, msg(f_bytes(1, "x.so")))
    s["status"] = request(27, 33, b"")
    s["state"] = request(28, 34, ref("db"))
    s["watch"] = request(29, 35, msg(f_int(1, 0), f_int(2, 8), f_int(3, 100), f_bytes(5, "db")))
    s["lease"] = request(30, 36, msg(f_bytes(1, "fuzz"), f_int(2, 5000), f_int(3, 7)))
    s["no-call"] = msg(f_int(1, 31))
    s["garbage"] = b"\xff\xff\xff\xff"
    return s


# ---------------------------------------------------------------- coordinator calls
def coord_calls():
    s = {}
    s["status"] = request(1, 100, b"")
    s["online"] = request(2, 101, msg(f_bytes(1, "web"), f_bytes(2, "n1")))
    s["online-unknown"] = request(3, 101, msg(f_bytes(1, "nosuch")))
    s["offline"] = request(4, 102, msg(f_bytes(1, "web")))
    s["move-rts"] = request(5, 103, msg(f_bytes(1, "db"), f_bytes(2, "n3"), f_int(3, 1)))
    s["drain"] = request(6, 104, msg(f_bytes(1, "n1")))
    s["undrain"] = request(7, 105, msg(f_bytes(1, "n1")))
    s["plan-node"] = request(8, 106, msg(f_bytes(1, "n2")))
    s["plan-resource"] = request(9, 106, msg(f_bytes(2, "web")))
    s["watch"] = request(10, 107, msg(f_int(1, 0), f_int(2, 16), f_int(3, 50)))
    s["clear"] = request(11, 108, msg(f_bytes(1, "db")))
    s["no-call"] = msg(f_int(1, 12))
    return s


# ---------------------------------------------------------------- responses
def resource_info(name, state):
    return msg(f_bytes(1, name), f_bytes(2, "dummy"), f_sint(3, state), f_int(4, 997),
               f_bytes(5, "pending \"quoted\" \x01"), f_int(6, 3), f_int(7, 0x4),
               f_sint(8, 2), f_int(9, 180000), f_sint(13, -1), f_sint(14, 1),
               f_bytes(15, param("k", "v")), f_int(17, 42), f_int(18, 0x40))


def event(seq, kind, control=b""):
    e = msg(f_int(1, seq), f_int(2, 0xABCDEF), f_bytes(3, "web"), f_sint(4, 129), f_sint(5, 2),
            f_int(6, 0), f_int(8, 1700000000000), f_bytes(9, "online"), f_int(10, kind),
            f_int(11, 0x5), f_int(12, 9))
    return e + (f_bytes(13, control) if control else b"")


def responses():
    control = msg(f_bytes(1, b"\x00\x01binary"), f_int(2, 8), f_bytes(3, param("a", "b")))
    agent = msg(f_bytes(1, "0.1.0"), f_int(2, 77), f_int(3, 9), f_int(4, 1), f_bytes(6, "co"),
                f_bytes(8, resource_info("web", 2)), f_bytes(8, resource_info("db", 4)),
                f_bytes(9, "tcp://127.0.0.1:7700"))
    batch = msg(f_bytes(1, event(1, 0)), f_bytes(1, event(2, 2, control)), f_bytes(1, event(3, 3)),
                f_int(2, 77), f_int(3, 3), f_int(4, 1))
    head = lambda st: msg(f_int(1, 5), f_int(2, st), f_bytes(3, "a message"))
    s = {}
    s["resource"] = head(0) + f_bytes(10, resource_info("web", 129))
    s["resources"] = head(0) + f_bytes(11, f_bytes(1, resource_info("web", 3)))
    s["type-info"] = head(0) + f_bytes(12, msg(f_bytes(1, "dummy"), f_int(2, 0x100), f_bytes(3, "builtin")))
    s["types"] = head(0) + f_bytes(13, f_bytes(1, msg(f_bytes(1, "ocf"), f_int(4, 1),
                                                      f_bytes(5, param("agents", "Dummy")))))
    s["health"] = head(0) + f_bytes(14, msg(f_int(1, 1), f_int(2, 1), f_int(3, 250),
                                            f_bytes(4, resource_info("db", 2))))
    s["control"] = head(234) + f_bytes(15, control)
    s["agent"] = head(0) + f_bytes(16, agent)
    s["events"] = head(0) + f_bytes(17, batch)
    s["lease"] = head(0) + f_bytes(18, msg(f_int(1, 1), f_int(2, 2900), f_int(3, 77)))
    s["pending-call-id"] = head(997) + f_int(5, 12345)
    s["event-batch"] = batch
    node = msg(f_bytes(1, "n1"), f_bytes(2, "tls+tcp://10.0.0.1:7700"), f_bytes(3, "Up"), f_int(5, 1))
    cres = msg(f_bytes(1, "web"), f_bytes(3, "n1"), f_sint(4, 2), f_int(10, 1), f_bytes(12, "retry-wait"))
    s["coord-status"] = head(0) + f_bytes(100, msg(f_bytes(1, node), f_bytes(2, cres), f_int(3, 4)))
    return s


def write(target, seeds):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(d, "seed-" + name), "wb") as f:
            f.write(data)


def copy_files(target, paths):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for p in paths:
        shutil.copy(p, os.path.join(d, "seed-" + os.path.basename(p)))


def ocf_meta():
    s = {}
    for agent in ("heartbeat/Dummy", "heartbeat/Filesystem"):
        path = "/usr/lib/ocf/resource.d/" + agent
        if os.access(path, os.X_OK):
            env = dict(os.environ, OCF_ROOT="/usr/lib/ocf")
            out = subprocess.run([path, "meta-data"], capture_output=True, env=env).stdout
            if out:
                s[agent.split("/")[1]] = out
    s["minimal"] = (b'<?xml version="1.0"?>\n<resource-agent name="x" version="1">'
                    b'<parameters><parameter name="p" required="1" unique="0">'
                    b'<content type="string" default="d"/></parameter></parameters>'
                    b'<actions><action name="start" timeout="20s"/>'
                    b'<action name="monitor" timeout="500ms" interval="10" depth="10"/>'
                    b'</actions></resource-agent>\n')
    s["duration"] = b"20min"
    return s


def main():
    write("agent_calls", agent_calls())
    write("coord_calls", coord_calls())
    write("response", responses())
    write("ocf_meta", ocf_meta())
    copy_files("clusterdef", [os.path.join(ROOT, "deploy/cluster.yaml")])
    write("clusterdef", {"overrides": b"""lease_ms: 2000
renew_ms: 500
plugin_types: [mytype]
nodes:
  - { name: a, agent: 'tls+tcp://10.0.0.1:7700' }
  - { name: b, agent: 'tcp://127.0.0.1:7702' }
resources:
  - name: fs
    type: volume
    params: { image: /var/lib/x.img, mount: /mnt/x }
    possible_owners: [a, b]
    preferred_owners: [b]
    node_params: { a: { mount: /mnt/y } }
    policy: { restart_threshold: 0, failback: true, failback_window_start: 1, failback_window_end: 5 }
"""})
    copy_files("agent_config", [os.path.join(ROOT, "deploy/agent.yaml")])
    write("agent_config", {"all-keys": b"listen: ipc:///tmp/a\nstate_dir: /tmp/s\nplugin_dir: /p\n"
                                       b"call_bound_ms: 100\ncontexts: 8\nlog_level: debug\n"})


if __name__ == "__main__":
    main()
