using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Sandbox.Runner.Isolation;

/// <summary>The few Linux calls .NET does not expose: SEQPACKET sockets with SCM_RIGHTS, pipes, sealed memfds.</summary>
internal static unsafe partial class Native
{
    public const int AF_UNIX = 1;
    public const int SOCK_SEQPACKET = 5;
    public const int SOCK_CLOEXEC = 0x80000;
    public const int SOL_SOCKET = 1;
    public const int SCM_RIGHTS = 1;
    public const int SO_RCVTIMEO = 20;
    public const int SO_PEERCRED = 17;
    public const int SO_SNDTIMEO = 21;
    public const int O_CLOEXEC = 0x80000;
    public const int MSG_NOSIGNAL = 0x4000;
    public const int MSG_CMSG_CLOEXEC = 0x40000000;
    public const int MSG_TRUNC = 0x20;
    public const int MSG_CTRUNC = 0x8;
    public const uint MFD_CLOEXEC = 1;
    public const uint MFD_ALLOW_SEALING = 2;
    public const int F_ADD_SEALS = 1033;
    public const int F_SEAL_SHRINK = 2;
    public const int F_SEAL_GROW = 4;
    public const int F_SEAL_WRITE = 8;
    public const int F_SEAL_SEAL = 1;
    public const int EINTR = 4;
    public const int EAGAIN = 11;
    public const int ENOENT = 2;
    public const int ECONNREFUSED = 111;

    [StructLayout(LayoutKind.Sequential)]
    public struct IoVec
    {
        public void* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct MsgHdr
    {
        public void* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct CMsgHdr
    {
        public nuint Length;
        public int Level;
        public int Type;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct TimeVal
    {
        public long Seconds;
        public long Microseconds;
    }

    [LibraryImport("libc", SetLastError = true)]
    public static partial int socket(int domain, int type, int protocol);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int connect(int fd, byte* addr, int addrLength);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint sendmsg(int fd, MsgHdr* msg, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint recvmsg(int fd, MsgHdr* msg, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int setsockopt(int fd, int level, int name, void* value, int length);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int getsockopt(int fd, int level, int name, void* value, int* length);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int pipe2(int* fds, int flags);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int memfd_create(string name, uint flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int fcntl(int fd, int cmd, int arg);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint write(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint read(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    /// <summary>ioctl request: bytes waiting in a pipe.</summary>
    public const nuint FIONREAD = 0x541B;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int ioctl(int fd, nuint request, int* value);

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    public const short POLLIN = 1;
    public const short POLLOUT = 4;
    public const short POLLERR = 8;
    public const short POLLHUP = 0x10;
    public const short POLLNVAL = 0x20;
    public const int F_GETFL = 3;
    public const int F_SETFL = 4;
    public const int O_NONBLOCK = 0x800;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int poll(PollFd* fds, nuint count, int timeoutMs);

    [LibraryImport("libc", SetLastError = true)]
    public static partial long lseek(int fd, long offset, int whence);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int kill(int pid, int signal);

    [LibraryImport("libc")]
    public static partial uint geteuid();

    public const int LOCK_SH = 1;
    public const int LOCK_EX = 2;
    public const int LOCK_NB = 4;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int flock(SafeFileHandle fd, int operation);

    /// <summary>The errno of the last failed call, with its text, for logs and errors.</summary>
    public static string LastError()
    {
        var errno = Marshal.GetLastPInvokeError();
        return $"errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)})";
    }

    /// <summary>Creates a pipe; both ends close-on-exec in this process.</summary>
    public static (SafeFileHandle Read, SafeFileHandle Write) Pipe()
    {
        int* fds = stackalloc int[2];
        if (pipe2(fds, O_CLOEXEC) != 0)
        {
            throw new IOException($"pipe2 failed: {LastError()}");
        }

        return (new SafeFileHandle(fds[0], ownsHandle: true), new SafeFileHandle(fds[1], ownsHandle: true));
    }

    /// <summary>
    /// A memfd holding <paramref name="content"/>, sealed against writes, growth and shrinking, so a program
    /// that gets it as stdin cannot change it or use it to hold memory outside its cgroup.
    /// </summary>
    public static SafeFileHandle SealedMemfd(string name, ReadOnlySpan<byte> content)
    {
        var fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
        {
            throw new IOException($"memfd_create failed: {LastError()}");
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            fixed (byte* p = content)
            {
                nuint done = 0;
                while (done < (nuint)content.Length)
                {
                    var n = write(fd, p + done, (nuint)content.Length - done);
                    if (n < 0)
                    {
                        if (Marshal.GetLastPInvokeError() == EINTR)
                        {
                            continue;
                        }

                        throw new IOException($"write to memfd failed: {LastError()}");
                    }

                    done += (nuint)n;
                }
            }

            if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0)
            {
                throw new IOException($"sealing memfd failed: {LastError()}");
            }

            // The shared file offset is at the end after writing; a program reading stdin starts at 0.
            if (lseek(fd, 0, 0) != 0)
            {
                throw new IOException($"lseek on memfd failed: {LastError()}");
            }

            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }
}
