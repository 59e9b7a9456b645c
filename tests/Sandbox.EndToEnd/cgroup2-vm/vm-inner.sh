#!/bin/bash
# PID 1 of the VM once vm-init.sh has switched to the overlay root: sets the machine up as a Debian 12 boot would
# leave it for the sandbox (cgroup v2 alone, every controller enabled for the root's children; fresh /run and
# /var/lib/sandbox, so nothing of the host's state is used), runs the test classes run.sh chose against the
# test assembly it built, and powers off. Everything it reports goes to /vmout (a writable share of the host).
set -u
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t tmpfs tmpfs /run
mkdir -p /dev/pts /dev/shm /vmout /var/lib/sandbox
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /var/lib/sandbox
poweroff() { sync; /bin/busybox poweroff -f; sleep 60; }
mount -t 9p -o trans=virtio,version=9p2000.L vmout /vmout || { echo "vm-inner: cannot mount /vmout"; poweroff; }
# shellcheck source=/dev/null
. /vmout/env # SBX_ROOT, SBX_TESTS, SBX_FILTER, SBX_SLOWDOWN
hostname sandbox-vm
# The test host talks to `dotnet test` over TCP on 127.0.0.1.
ip link set lo up
echo "+cpu +memory +pids +cpuset" > /sys/fs/cgroup/cgroup.subtree_control

export HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_EnableDiagnostics=0
# Without hardware virtualisation the VM's CPU is emulated, 10-20 times slower than the host: the test host takes
# minutes to start (the default wait is 90 s).
export VSTEST_CONNECTION_TIMEOUT=1800 DOTNET_TieredPGO=0 SANDBOX_TEST_SLOWDOWN="$SBX_SLOWDOWN"
{
  echo "vm: kernel $(uname -r), /sys/fs/cgroup is $(stat -fc %T /sys/fs/cgroup), controllers for children: $(cat /sys/fs/cgroup/cgroup.subtree_control)"
  cd "$SBX_ROOT" && dotnet test "$SBX_TESTS" --filter "$SBX_FILTER" \
    --logger "trx;LogFileName=/vmout/vm.trx" --logger "console;verbosity=normal"
  echo "$?" > /vmout/rc
} 2>&1 | tee /vmout/log | grep --line-buffered -E '^vm:|^\s+(Passed|Failed|Skipped) |^(Passed|Failed)!'
poweroff
