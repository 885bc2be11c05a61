#!/usr/bin/env bash
# Deployment files: the container image builds with the same setup script as
# CI (no package list of its own); `cmake --install` lays out binaries,
# headers, units, example configuration and the plug-in directory; the units
# name the installed binaries; the example cluster definition validates.
. "$(dirname "$0")/lib.sh"
SRC=${CLUS_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
DOCKERFILE=$SRC/deploy/container/Dockerfile

# --- Dockerfile: every RUN that installs packages is scripts/setup.sh
runs=$(grep -E '^\s*RUN ' "$DOCKERFILE")
check "the Dockerfile runs scripts/setup.sh" bash -c "echo '$runs' | grep -q 'scripts/setup.sh'"
check "the Dockerfile installs no package of its own" bash -c "! grep -qE 'apt-get|apt |dpkg|pip ' '$DOCKERFILE'"
check "the Dockerfile starts from Debian 12" grep -qE '^FROM debian:12' "$DOCKERFILE"
check "the Dockerfile copies setup.sh before running it" \
    bash -c "awk '/COPY scripts\/setup.sh/{c=NR} /RUN bash scripts\/setup.sh/{r=NR} END{exit !(c && r && c<r)}' '$DOCKERFILE'"
check "CI runs the same setup script" grep -q 'scripts/setup.sh' "$SRC/scripts/test.sh"
check "the compose file defines three agents and a coordinator" \
    bash -c "grep -cE '^  (n1|n2|n3|coordinator):' '$SRC/deploy/container/compose.yaml' | grep -qx 4"

# --- cmake --install into a staging directory
# Only ever into a staging DESTDIR: this test never touches the system.
DEST=$WORK/stage
PREFIX=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$BUILD/CMakeCache.txt")
P=$DEST$PREFIX
DESTDIR=$DEST cmake --install "$BUILD" >"$WORK/install.log" 2>&1
check "cmake --install succeeds" test $? = 0
coordinator=""
[ -x "$BUILD/coordinator/clus-coordinator" ] && coordinator=sbin/clus-coordinator
for f in sbin/clus-agent $coordinator bin/clusctl include/clus/client.h \
         include/clus/restype.h lib/systemd/system/clus-agent.service \
         lib/systemd/system/clus-coordinator.service etc/clus/cluster.yaml etc/clus/agent.yaml; do
    check "installs $PREFIX/$f" test -e "$P/$f"
done
check "installs the plug-in directory" bash -c "ls -d '$P'/lib*/clus/plugins"
check "installs libclus-client" bash -c "ls '$P'/lib*/libclus-client.so*"
unit=$P/lib/systemd/system/clus-agent.service
check "the agent unit runs the installed binary" grep -q "ExecStart=$PREFIX/sbin/clus-agent " "$unit"
check "the agent unit reads the installed configuration" grep -q -- "--config $PREFIX/etc/clus/agent.yaml" "$unit"
check "the agent unit has a state directory and a restart policy" \
    bash -c "grep -q '^StateDirectory=' '$unit' && grep -q '^Restart=' '$unit'"
# the installed agent reads the installed configuration file
timeout 5 "$P/sbin/clus-agent" --config "$P/etc/clus/agent.yaml" --help >/dev/null 2>&1
check "the installed agent runs" test $? = 0
if "$CLUSCTL" config validate --help >/dev/null 2>&1; then
    check "the example cluster definition validates" \
        "$CLUSCTL" config validate "$P/etc/clus/cluster.yaml"
fi
# the agent refuses plain tcp on a non-loopback address unless --insecure
timeout 5 "$AGENT_BIN" --state-dir "$WORK/ins" --listen "tcp://0.0.0.0:$(free_port)" >"$WORK/insecure.log" 2>&1
check "plain tcp on 0.0.0.0 is refused without --insecure" test $? = 1
check "the refusal says why" grep -q "insecure" "$WORK/insecure.log"

finish
