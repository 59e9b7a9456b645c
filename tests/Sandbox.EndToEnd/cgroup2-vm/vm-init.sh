#!/bin/busybox sh
# /init of the VM's initramfs (run.sh builds it): loads the modules the root needs, mounts the host's root file
# system (9p, read-only) under a tmpfs overlay and hands over to the script named by `sbxinner=` on the kernel
# command line. Anything that fails drops to a shell on the serial console, which run.sh's timeout ends.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
while read -r module; do
  insmod "/modules/$module" || echo "vm-init: insmod $module failed"
done < /modules/order
fail() { echo "vm-init: $*"; exec sh; }
mkdir -p /lower /upper /newroot
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 hostroot /lower || fail "cannot mount the host's root"
mount -t tmpfs -o mode=0755 upper /upper || fail "no tmpfs"
mkdir -p /upper/u /upper/w
mount -t overlay overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w /newroot || fail "no overlay"
inner=$(sed -n 's/.*sbxinner=\([^ ]*\).*/\1/p' /proc/cmdline)
[ -n "$inner" ] || fail "no sbxinner= on the kernel command line"
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot /bin/bash "$inner"
