#!/usr/bin/env bash
# The sandbox on cgroup v2 and on the kernel Debian 12 ships (6.1: no multigrain timestamps, memory.peak not
# resettable), for a machine whose own cgroups are v1 (this one's are): boots Debian's kernel in a QEMU VM whose root
# is this machine's file system (read-only, under a tmpfs overlay), and runs the engine's real-container test classes
# in it (real LXC, real limits, the exploit corpus) from the test assembly a build left (`./test` or
# `dotnet build Sandbox.sln`). Prints TAP (`# pass N`, `# fail N`), one line per test; the VM's whole test log goes
# to build/test-results/cgroup2-vm.log. About 17 minutes here; ./test runs the kernel-dependent part (run-ci.sh).
#
#   bash tests/Sandbox.EndToEnd/cgroup2-vm/run.sh                  # when this machine's cgroups are v1
#   SANDBOX_VM_SUITE=1 bash tests/Sandbox.EndToEnd/cgroup2-vm/run.sh # always
#   SANDBOX_VM_FILTER='FullyQualifiedName~CleanupTests' bash ...    # other test classes
#   SANDBOX_VM_KERNEL=bullseye bash ...                             # Debian 11's kernel (5.10) instead of Debian 12's
#
# Debian 11's kernel is older than everything the engine prefers on cgroup v2: no memory.peak (5.19; the peak then
# comes from wait4's resident set), no resettable peak (6.12: a run cgroup per run), no cgroup.kill (5.14: the kill
# freezes the cgroup and signals its members). Its package comes from Debian 11's archive through a private apt
# configuration (apt checks the archive's signature with debian-archive-keyring); the machine's own apt sources stay
# as they are.
#
# Needs (installed with apt when missing): qemu-system-x86, busybox-static, kmod, and Debian's kernel package
# (downloaded once, kept in /var/cache/sandbox-vm). Without hardware virtualisation (no vmx/svm flag: this VM has
# none) QEMU emulates the CPU, 10-40 times slower than the host: the tests' time limits are scaled by 10.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$here/../../.." && pwd)"
TESTS="$ROOT/tests/Sandbox.Runner.Tests/bin/Debug/net10.0/Sandbox.Runner.Tests.dll"
CACHE=/var/cache/sandbox-vm
# What runs in the VM: the engine (limits, accounting, cleanup, the agent) and the exploit corpus, but for one test
# whose 5,000 file creations take over 12 s of emulated CPU (the agent's wipe it checks does not depend on the kernel).
FILTER="${SANDBOX_VM_FILTER:-(FullyQualifiedName~Sandbox.Runner.Tests.Isolation.|FullyQualifiedName~Sandbox.Runner.Tests.Exploits.)&FullyQualifiedName!~LockedAndStickyDirectoriesWithManyEntries}"

if [[ "${SANDBOX_VM_SUITE:-}" != 1 && "$(stat -fc %T /sys/fs/cgroup)" == cgroup2fs ]]; then
  echo "# this machine's cgroups are v2 already: the .NET suites ran on them (SANDBOX_VM_SUITE=1 runs this anyway)"
  exit 0
fi
fail() { echo "not ok 1 - cgroup v2 VM: $*"; echo "# pass 0"; echo "# fail 1"; exit 1; }
[[ -f "$TESTS" ]] || fail "no test assembly at $TESTS (./test builds it)"

need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
[[ -x /bin/busybox ]] && /bin/busybox --list 2>/dev/null | grep -qx switch_root || need+=(busybox-static)
command -v modprobe >/dev/null || need+=(kmod)
if ((${#need[@]})); then
  echo "# installing ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null ||
    fail "cannot install ${need[*]}"
fi

# The kernel image linux-image-amd64 names (Debian 12's, or Debian 11's with SANDBOX_VM_KERNEL=bullseye), unpacked
# once: the image and the modules the root needs.
apt_opts=()
case "${SANDBOX_VM_KERNEL:-bookworm}" in
  bookworm) ;;
  bullseye)
    lists="$CACHE/apt-bullseye"
    mkdir -p "$lists/lists/partial" "$lists/cache/archives/partial" || fail "cannot write $CACHE"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bullseye main" > "$lists/sources.list"
    apt_opts=(-o "Dir::Etc::SourceList=$lists/sources.list" -o "Dir::Etc::SourceParts=$lists/none" -o "Dir::State::Lists=$lists/lists" -o "Dir::Cache=$lists/cache")
    if [[ ! -f "$lists/updated" ]]; then
      echo "# reading Debian 11's package index (once)"
      apt-get "${apt_opts[@]}" update -qq >/dev/null 2>&1 || fail "cannot read Debian 11's package index from deb.debian.org"
      touch "$lists/updated"
    fi
    ;;
  *) fail "SANDBOX_VM_KERNEL must be bookworm or bullseye, not '${SANDBOX_VM_KERNEL}'" ;;
esac
pkg=$(apt-cache "${apt_opts[@]}" depends linux-image-amd64 2>/dev/null | awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ {print $2; exit}')
[[ -n "$pkg" ]] || fail "apt knows no linux-image-amd64 (a Debian package source is needed)"
kdir="$CACHE/$pkg"
if [[ ! -f "$kdir/ready" ]]; then
  echo "# downloading $pkg (once)"
  rm -rf "$kdir" && mkdir -p "$kdir/deb" || fail "cannot write $CACHE"
  (cd "$kdir/deb" && apt-get "${apt_opts[@]}" download -q "$pkg" >/dev/null 2>&1) || fail "cannot download $pkg"
  dpkg -x "$kdir"/deb/*.deb "$kdir/x" || fail "cannot unpack $pkg"
  rm -rf "$kdir/deb"
  depmod -b "$kdir/x" "$(ls "$kdir/x/lib/modules" | head -1)" || fail "depmod failed"
  touch "$kdir/ready"
fi
kver=$(ls "$kdir/x/lib/modules" | head -1)
vmlinuz="$kdir/x/boot/vmlinuz-$kver"
[[ -f "$vmlinuz" ]] || fail "no kernel image in $kdir"

work=$(mktemp -d "${TMPDIR:-/tmp}/sandbox-vm.XXXXXX")
trap 'rm -rf "$work"' EXIT
out="$work/out"
mkdir -p "$out" "$work/initrd"/{bin,dev,proc,sys,modules}

# The initramfs: busybox, the modules for virtio, 9p and overlayfs in load order, and vm-init.sh as /init.
cp /bin/busybox "$work/initrd/bin/busybox"
cp "$here/vm-init.sh" "$work/initrd/init"
chmod 755 "$work/initrd/init"
for m in virtio_pci 9pnet_virtio 9p overlay; do
  modprobe -d "$kdir/x" -S "$kver" --show-depends "$m" || fail "no module $m in $pkg"
done | awk '$1 == "insmod" && !seen[$2]++ {print $2}' > "$work/modules"
while read -r ko; do
  cp "$ko" "$work/initrd/modules/" && basename "$ko" >> "$work/initrd/modules/order"
done < "$work/modules"
(cd "$work/initrd" && find . | /bin/busybox cpio -o -H newc 2>/dev/null | gzip -1) > "$work/initrd.gz" || fail "cannot build the initramfs"

cat > "$out/env" <<EOF
SBX_ROOT='$ROOT'
SBX_TESTS='$TESTS'
SBX_FILTER='$FILTER'
EOF

cores=$(nproc)
mem_mb=$(awk '/MemTotal/ {print int($2 / 1024 / 2)}' /proc/meminfo)
((mem_mb > 12288)) && mem_mb=12288
if [[ -w /dev/kvm ]] && grep -qwE 'vmx|svm' /proc/cpuinfo; then
  accel=(-accel kvm -cpu host)
  slowdown=1
else
  # Emulated. A plain CPU model: .NET then takes its SSE paths, which QEMU emulates far faster than AVX-512.
  accel=(-accel tcg,thread=multi -cpu Nehalem)
  slowdown=10
fi
echo "SBX_SLOWDOWN=$slowdown" >> "$out/env"
echo "# booting $pkg ($kver) with ${accel[1]}, $cores CPUs, $mem_mb MB; tests: $FILTER"
started=$SECONDS
timeout "${SANDBOX_VM_TIMEOUT:-3000}" qemu-system-x86_64 "${accel[@]}" -smp "$cores" -m "$mem_mb" \
  -kernel "$vmlinuz" -initrd "$work/initrd.gz" \
  -append "console=ttyS0 quiet panic=-1 sbxinner=$here/vm-inner.sh" \
  -fsdev local,id=root,path=/,security_model=passthrough,readonly=on,multidevs=remap \
  -device virtio-9p-pci,fsdev=root,mount_tag=hostroot \
  -fsdev local,id=out,path="$out",security_model=passthrough \
  -device virtio-9p-pci,fsdev=out,mount_tag=vmout \
  -nographic -nic none -no-reboot </dev/null 2>&1 | grep --line-buffered -E '^vm|^\s+(Passed|Failed|Skipped) |^(Passed|Failed)!|vm-init|vm-inner' |
  sed -u 's/^/# /'
echo "# the VM ran for $((SECONDS - started)) s"

mkdir -p "$ROOT/build/test-results" && cp -f "$out/log" "$ROOT/build/test-results/cgroup2-vm.log" 2>/dev/null
[[ -f "$out/vm.trx" ]] || { tail -20 "$out/log" 2>/dev/null | sed 's/^/# /'; fail "the VM wrote no test results"; }
# One TAP line per test; a test that did not run counts as failed.
python3 - "$out/vm.trx" <<'EOF'
import sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
root = ET.parse(sys.argv[1]).getroot()
results = root.findall(".//t:UnitTestResult", ns)
counters = root.find(".//t:Counters", ns)
passed = failed = 0
for i, r in enumerate(results, 1):
    ok = r.get("outcome") == "Passed"
    passed += ok
    failed += not ok
    print(f"{'ok' if ok else 'not ok'} {i} - cgroup v2 VM: {r.get('testName')} ({r.get('outcome')})")
# Tests the run never reached (it aborted) are in the counters' total only.
missing = max(0, int(counters.get("total", "0")) - len(results)) if counters is not None else 0
if missing:
    print(f"not ok {len(results) + 1} - cgroup v2 VM: {missing} tests did not run")
print(f"1..{len(results) + (1 if missing else 0)}")
print(f"# pass {passed}")
failed = failed + (1 if missing else 0) if results else 1
print(f"# fail {failed}")
sys.exit(1 if failed else 0)
EOF
