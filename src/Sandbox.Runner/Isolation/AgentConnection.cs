using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Sandbox.Runner.Isolation;

/// <summary>Operations of the agent protocol; keep in sync with deploy/agent/protocol.h.</summary>
internal enum AgentOp : uint
{
    Ping = 1,
    Run = 2,
    Reset = 3,
    Mkdir = 5,
    List = 6,
    Kill = 7,
    // 4 was a PUT answered on its own; files now always go ahead of their run (PutAhead).
    PutAhead = 8,
    Cgroups = 9,
}

/// <summary>Where a run failed before its program started; keep in sync with deploy/agent/protocol.h.</summary>
internal enum AgentStage : uint
{
    None = 0,
    Cgroup = 1,
    SetGroups = 2,
    SetGid = 3,
    SetUid = 4,
    Capabilities = 5,
    Rlimit = 6,
    Chdir = 7,
    Stdio = 8,
    Exec = 9,
    Fork = 10,
    Request = 11,
    Seccomp = 12,
    /// <summary>A file sent ahead of the run could not be created; nothing was started.</summary>
    Put = 13,
}

/// <summary>What the agent needs to start one process.</summary>
internal sealed record AgentRunSpec(
    IReadOnlyList<string> Argv,
    IReadOnlyList<string> Environment,
    string WorkingDirectory,
    uint Uid,
    uint Gid,
    ulong CpuSeconds,
    ulong FileSizeBytes,
    ulong OpenFiles,
    ulong StackBytes,
    ulong Processes,
    AgentAfter After = AgentAfter.Nothing);

/// <summary>What the agent does once the main process has exited, before it replies (protocol.h, enum sbx_after).</summary>
internal enum AgentAfter : uint
{
    /// <summary>Nothing: the host sends <see cref="AgentOp.Kill"/> or <see cref="AgentOp.Reset"/> itself.</summary>
    Nothing = 0,
    /// <summary>Kill every process left, keep the files.</summary>
    Kill = 1,
    /// <summary>Kill every process left and wipe the writable space; the agent exits (the container is replaced) if it cannot.</summary>
    Reset = 2,
}

/// <summary>The agent's answer to a run: how the main process ended and its rusage.</summary>
internal sealed record AgentRunReply(bool Started, int Errno, AgentStage Stage, int WaitStatus, int Pid, long UserMicros, long SystemMicros, long MaxRssKb, bool Cleaned = false)
{
    public bool Exited => Started && (WaitStatus & 0x7f) == 0;

    public int ExitCode => (WaitStatus >> 8) & 0xff;

    public int? Signal => Started && (WaitStatus & 0x7f) != 0 && (WaitStatus & 0x7f) != 0x7f ? WaitStatus & 0x7f : null;
}

/// <summary>A regular file the agent listed from the work directory, read through the descriptor it passed.</summary>
internal sealed record AgentFile(string Name, int Mode, byte[] Content);

/// <summary>The agent violated the protocol, went away, or refused an operation.</summary>
internal sealed class AgentException(string message) : Exception(message);

/// <summary>
/// Host side of the agent protocol (deploy/agent/protocol.h): one SOCK_SEQPACKET connection to one
/// container's agent; one operation at a time. Calls block: run them off the async path.
/// </summary>
internal sealed class AgentConnection : IDisposable
{
    private const uint Magic = 0x41584253;
    // protocol.h SBX_VERSION: 2 since the RUN request grew its flags, 3 since it carries its files.
    private const uint Version = 3;
    private const int HeaderSize = 16;
    private const int MaxPacket = 65536;
    private const int MaxNameBytes = 255;

    private const uint CgroupsStored = 0xFFFF_FFFF;
    // sbx_run_req.flags: no stdin descriptor, the run reads /dev/null (SBX_RUN_STDIN_NULL).
    private const uint RunStdinNull = 1;
    // Where sbx_run_req.files (how many files the request carries) is in the request's fixed part.
    private const int RunFilesOffset = 68;

    private readonly Lock _gate = new();
    private int _fd;
    private int _timeoutMs = -1;
    // The run cgroup's join descriptors the agent holds for this connection (SBX_OP_CGROUPS), so a run passes none.
    private IReadOnlyList<SafeFileHandle>? _agentCgroups;
    // Files put ahead of the next request, sent with it.
    private readonly List<Outgoing> _ahead = [];

    /// <summary>One packet to send, the descriptors to pass with it, and a memfd of ours to close once it is sent.</summary>
    private sealed record Outgoing(byte[] Packet, IReadOnlyList<SafeFileHandle> Fds, SafeFileHandle? Owned);

    private AgentConnection(int fd)
    {
        _fd = fd;
        // Non-blocking: operations wait with poll() and a deadline; a run polls it together with its pipes.
        var flags = Native.fcntl(fd, Native.F_GETFL, 0);
        if (flags < 0 || Native.fcntl(fd, Native.F_SETFL, flags | Native.O_NONBLOCK) != 0)
        {
            throw new AgentException($"fcntl(O_NONBLOCK) failed: {Native.LastError()}");
        }

    }

    /// <summary>Connects to the agent's socket. The socket folder is owned by container root, never by a run.</summary>
    public static AgentConnection Connect(string socketPath) =>
        TryConnect(socketPath) ?? throw new AgentException($"connect({socketPath}) failed: the agent is not listening (yet)");

    /// <summary>
    /// As <see cref="Connect"/>, but null while nobody listens there yet: the agent binds its socket (the file
    /// appears) a moment before it listens, and a connect in between is refused.
    /// </summary>
    public unsafe static AgentConnection? TryConnect(string socketPath)
    {
        var fd = Native.socket(Native.AF_UNIX, Native.SOCK_SEQPACKET | Native.SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            throw new AgentException($"socket(AF_UNIX, SOCK_SEQPACKET) failed: {Native.LastError()}");
        }

        var pathBytes = Encoding.UTF8.GetBytes(socketPath);
        if (pathBytes.Length >= 108)
        {
            Native.close(fd);
            throw new AgentException($"agent socket path too long: {socketPath}");
        }

        Span<byte> addr = stackalloc byte[110];
        addr.Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(addr, Native.AF_UNIX);
        pathBytes.CopyTo(addr[2..]);
        fixed (byte* a = addr)
        {
            if (Native.connect(fd, a, 2 + pathBytes.Length + 1) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                var error = Native.LastError();
                Native.close(fd);
                if (errno is Native.ECONNREFUSED or Native.ENOENT)
                {
                    return null;
                }

                throw new AgentException($"connect({socketPath}) failed: {error}");
            }
        }

        return new AgentConnection(fd);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_fd >= 0)
            {
                Native.close(_fd);
                _fd = -1;
            }

            DropAhead();
        }
    }

    public long Ping(TimeSpan timeout) => Status(AgentOp.Ping, timeout);

    /// <summary>The agent's pid as this (the host's) PID namespace sees it, from SO_PEERCRED.</summary>
    public unsafe int PeerPid()
    {
        // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
        var cred = stackalloc int[3];
        var length = 12;
        if (Native.getsockopt(_fd, Native.SOL_SOCKET, Native.SO_PEERCRED, cred, &length) != 0)
        {
            throw new AgentException($"getsockopt(SO_PEERCRED) failed: {Native.LastError()}");
        }

        return cred[0];
    }

    /// <summary>Kills every process in the container but the agent; files stay (compile → run).</summary>
    public long KillAll(TimeSpan timeout) => Status(AgentOp.Kill, timeout);

    /// <summary>Kills every process but the agent and wipes the writable space.</summary>
    public long Reset(TimeSpan timeout) => Status(AgentOp.Reset, timeout);

    /// <summary>
    /// Sends a file to create in the work directory (O_EXCL|O_NOFOLLOW inside the container) ahead of a run, without
    /// an answer: the agent writes it while the host prepares the run, and if it cannot, the next run's reply says so
    /// (<see cref="AgentStage.Put"/>) and nothing is started.
    /// </summary>
    /// <remarks>
    /// Nothing is sent yet: the file goes out with the next request. A RUN carries its files inside its own packet
    /// when they fit (one packet, one wake-up of the agent); otherwise, and before any other request, they go as
    /// packets of their own just before it.
    /// </remarks>
    public void SendPut(string name, ReadOnlySpan<byte> content, int mode, uint uid, uint gid)
    {
        // Small files (most sources) travel inside the request: no memfd to make, pass and read back.
        var packet = BuildPutPacket(AgentOp.PutAhead, name, mode, uid, gid, content);
        var memfd = packet is null ? Native.SealedMemfd("sandbox-put", content) : null;
        packet ??= BuildPutPacket(AgentOp.PutAhead, name, mode, uid, gid)!;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_fd < 0, this);
            _ahead.Add(new Outgoing(packet, memfd is null ? [] : [memfd], memfd));
        }
    }

    /// <summary>Creates a directory in the work directory.</summary>
    public void Mkdir(string name, int mode, uint uid, uint gid, TimeSpan timeout)
    {
        var packet = BuildPutPacket(AgentOp.Mkdir, name, mode, uid, gid)!;
        lock (_gate)
        {
            SetTimeout(timeout);
            Send(packet, []);
            var (ok, errno, _) = ReceiveStatus(AgentOp.Mkdir);
            if (!ok)
            {
                throw new AgentException($"agent could not create '{name}' in the work directory (errno {errno})");
            }
        }
    }

    /// <summary>Lists the regular files at the top of the work directory and reads each through the descriptor the agent opened.</summary>
    public IReadOnlyList<AgentFile> List(long maxTotalBytes, TimeSpan timeout)
    {
        lock (_gate)
        {
            SetTimeout(timeout);
            Span<byte> header = stackalloc byte[HeaderSize];
            WriteHeader(header, AgentOp.List, 0);
            Send(header, []);
            var files = new List<AgentFile>();
            long total = 0;
            var buffer = new byte[HeaderSize + 16 + MaxNameBytes];
            while (true)
            {
                var (length, fds) = Receive(buffer, maxFds: 1);
                using var fd = fds.Count > 0 ? fds[0] : null;
                var payload = CheckHeader(buffer.AsSpan(0, length), AgentOp.List);
                if (payload.Length < 16)
                {
                    // A status reply: the listing failed.
                    throw new AgentException($"agent could not list the work directory (errno {BinaryPrimitives.ReadInt32LittleEndian(payload[4..])})");
                }

                var mode = (int)BinaryPrimitives.ReadUInt32LittleEndian(payload);
                var nameLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(payload[4..]);
                var size = BinaryPrimitives.ReadInt64LittleEndian(payload[8..]);
                if (nameLength == 0)
                {
                    return files;
                }

                if (fd is null || nameLength > MaxNameBytes || payload.Length != 16 + nameLength)
                {
                    throw new AgentException("agent sent a malformed file entry");
                }

                var name = Encoding.UTF8.GetString(payload.Slice(16, nameLength));
                total += size;
                if (size < 0 || total > maxTotalBytes)
                {
                    throw new AgentException($"compiled files exceed {maxTotalBytes} bytes");
                }

                // Read through the descriptor, never by path: the host cannot be sent elsewhere by a planted link.
                var content = new byte[size];
                var read = 0;
                while (read < content.Length)
                {
                    var n = RandomAccess.Read(fd, content.AsSpan(read), read);
                    if (n == 0)
                    {
                        break;
                    }

                    read += n;
                }

                files.Add(new AgentFile(name, mode, read == content.Length ? content : content[..read]));
            }
        }
    }

    /// <summary>The connection's descriptor, for a caller that polls it together with the run's pipes.</summary>
    public int Descriptor => _fd;

    /// <summary>
    /// Asks the agent to start one process; its reply comes when the process exits (a cgroup kill from elsewhere ends
    /// it early): poll <see cref="Descriptor"/> for input, then <see cref="ReceiveRunReply"/>. The caller owns the
    /// container exclusively while the process runs: no other operation may start on this connection meanwhile.
    /// </summary>
    /// <remarks>
    /// The run cgroup's join descriptors go to the agent once per connection (the first run with a given list), not
    /// with every run. The agent holds its copies of stdout and stderr until it has replied, so a caller polling the
    /// pipes sees no end of output before the reply; once the reply says <see cref="AgentRunReply.Cleaned"/>, no
    /// process is left that could write, and what the pipes hold is all there is.
    /// </remarks>
    public void SendRun(AgentRunSpec spec, SafeFileHandle? stdin, SafeFileHandle stdout, SafeFileHandle stderr, IReadOnlyList<SafeFileHandle> cgroupProcs)
    {
        lock (_gate)
        {
            SendRunPacket(spec, StoreCgroups(cgroupProcs), stdin, stdout, stderr);
        }
    }

    /// <summary>
    /// Makes sure the agent holds <paramref name="cgroupProcs"/> for this connection (under <see cref="_gate"/>) and
    /// says what the RUN request's cgroup_fds is: stored, or 0 (none given: the agent refuses the run).
    /// </summary>
    private uint StoreCgroups(IReadOnlyList<SafeFileHandle> cgroupProcs)
    {
        if (cgroupProcs.Count == 0)
        {
            return 0;
        }

        if (!ReferenceEquals(cgroupProcs, _agentCgroups))
        {
            _agentCgroups = null;
            SetTimeout(TimeSpan.FromSeconds(10));
            Span<byte> header = stackalloc byte[HeaderSize];
            WriteHeader(header, AgentOp.Cgroups, 0);
            Send(header, cgroupProcs);
            var (ok, errno, _) = ReceiveStatus(AgentOp.Cgroups);
            if (!ok)
            {
                throw new AgentException($"agent refused the run cgroup's descriptors (errno {errno})");
            }

            _agentCgroups = cgroupProcs;
        }

        return CgroupsStored;
    }

    /// <summary>
    /// Sends a run whose files part is <paramref name="files"/> as it is, said to hold <paramref name="count"/> files
    /// (protocol tests: the agent must refuse a request whose files part does not add up).
    /// </summary>
    internal void SendRunWithRawFiles(AgentRunSpec spec, SafeFileHandle stdout, IReadOnlyList<SafeFileHandle> cgroupProcs, uint count, ReadOnlySpan<byte> files)
    {
        lock (_gate)
        {
            var run = BuildRunPacket(spec, StoreCgroups(cgroupProcs), RunStdinNull, [])!;
            var packet = new byte[run.Length + files.Length];
            run.CopyTo(packet, 0);
            files.CopyTo(packet.AsSpan(run.Length));
            WriteHeader(packet, AgentOp.Run, packet.Length - HeaderSize);
            BinaryPrimitives.WriteUInt32LittleEndian(packet.AsSpan(HeaderSize + RunFilesOffset), count);
            _timeoutMs = 10_000;
            Send(packet, [stdout, stdout]);
        }
    }

    /// <summary>
    /// Sends a run that joins the cgroups the agent holds for this connection without making sure it holds any
    /// (protocol tests: a run on a connection that never passed them must be refused).
    /// </summary>
    internal void SendRunWithStoredCgroups(AgentRunSpec spec, SafeFileHandle? stdin, SafeFileHandle stdout, SafeFileHandle stderr)
    {
        lock (_gate)
        {
            SendRunPacket(spec, CgroupsStored, stdin, stdout, stderr);
        }
    }

    /// <summary>
    /// The RUN request itself, with the run's stdio (under <see cref="_gate"/>). Without <paramref name="stdin"/> the
    /// run reads /dev/null, opened for it alone.
    /// </summary>
    private void SendRunPacket(AgentRunSpec spec, uint cgroupFds, SafeFileHandle? stdin, SafeFileHandle stdout, SafeFileHandle stderr)
    {
        _timeoutMs = 10_000;
        var flags = stdin is null ? RunStdinNull : 0;
        // The files put ahead travel inside the request when all of them are inline and fit. Sent as packets of their
        // own, the first one woke the agent, which then took the CPU from the host before the RUN went out and slept
        // again until it came (measured: the host's context switches per run 1.7 -> 1.3).
        var packet = _ahead.Count > 0 && _ahead.TrueForAll(m => m.Owned is null) ? BuildRunPacket(spec, cgroupFds, flags, _ahead) : null;
        if (packet is not null)
        {
            _ahead.Clear();
        }

        packet ??= BuildRunPacket(spec, cgroupFds, flags, [])!;
        Send(packet, stdin is null ? [stdout, stderr] : [stdin, stdout, stderr]);
    }

    /// <summary>Sends one packet as it is (protocol tests: what the agent does with traffic it does not understand).</summary>
    internal void SendRaw(ReadOnlySpan<byte> packet)
    {
        lock (_gate)
        {
            _timeoutMs = 10_000;
            Send(packet, []);
        }
    }

    /// <summary>Reads the reply to <see cref="SendRun"/>; call once the descriptor is readable.</summary>
    public AgentRunReply ReceiveRunReply()
    {
        Span<byte> buffer = stackalloc byte[128];
        int length;
        lock (_gate)
        {
            _timeoutMs = 10_000;
            var (n, fds) = Receive(buffer, maxFds: 0);
            foreach (var fd in fds)
            {
                fd.Dispose();
            }

            length = n;
        }

        var reply = CheckHeader(buffer[..length], AgentOp.Run);
        if (reply.Length != 48)
        {
            throw new AgentException("agent sent a malformed run reply");
        }

        return new AgentRunReply(
            Started: BinaryPrimitives.ReadInt32LittleEndian(reply) == 1,
            Errno: BinaryPrimitives.ReadInt32LittleEndian(reply[4..]),
            Stage: (AgentStage)BinaryPrimitives.ReadUInt32LittleEndian(reply[8..]),
            WaitStatus: BinaryPrimitives.ReadInt32LittleEndian(reply[12..]),
            Pid: BinaryPrimitives.ReadInt32LittleEndian(reply[16..]),
            UserMicros: BinaryPrimitives.ReadInt64LittleEndian(reply[24..]),
            SystemMicros: BinaryPrimitives.ReadInt64LittleEndian(reply[32..]),
            MaxRssKb: BinaryPrimitives.ReadInt64LittleEndian(reply[40..]),
            Cleaned: BinaryPrimitives.ReadInt32LittleEndian(reply[20..]) == 1);
    }

    /// <summary>A PUT or MKDIR request, with <paramref name="content"/> inline; null when that would not fit in one packet.</summary>
    private static byte[]? BuildPutPacket(AgentOp op, string name, int mode, uint uid, uint gid, ReadOnlySpan<byte> content = default)
    {
        var nameBytes = Encoding.UTF8.GetBytes(name);
        if (nameBytes.Length is 0 or > MaxNameBytes || name is "." or ".." || name.Contains('/', StringComparison.Ordinal) || name.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{name}' is not a plain file name");
        }

        var payload = 16 + nameBytes.Length + content.Length;
        if (HeaderSize + payload > MaxPacket)
        {
            return null;
        }

        var packet = new byte[HeaderSize + payload];
        WriteHeader(packet, op, payload);
        var body = packet.AsSpan(HeaderSize);
        BinaryPrimitives.WriteUInt32LittleEndian(body, (uint)mode);
        BinaryPrimitives.WriteUInt32LittleEndian(body[4..], uid);
        BinaryPrimitives.WriteUInt32LittleEndian(body[8..], gid);
        BinaryPrimitives.WriteUInt32LittleEndian(body[12..], (uint)nameBytes.Length);
        nameBytes.CopyTo(body[16..]);
        content.CopyTo(body[(16 + nameBytes.Length)..]);
        return packet;
    }

    /// <summary>
    /// A RUN request carrying <paramref name="files"/> (PUT_AHEAD packets with their content inline); null when they
    /// do not fit in one packet with it.
    /// </summary>
    private static byte[]? BuildRunPacket(AgentRunSpec spec, uint cgroupFds, uint flags, IReadOnlyList<Outgoing> files)
    {
        const int fixedSize = 72;
        var size = HeaderSize + fixedSize;
        foreach (var file in files)
        {
            // Each: its length, then the PUT_AHEAD payload (the packet without its header).
            size += 4 + file.Packet.Length - HeaderSize;
        }
        foreach (var list in (ReadOnlySpan<IReadOnlyList<string>>)[spec.Argv, spec.Environment])
        {
            for (var i = 0; i < list.Count; i++)
            {
                size += StringSize(list[i]);
            }
        }

        size += StringSize(spec.WorkingDirectory);
        if (size > MaxPacket)
        {
            return files.Count > 0 ? null : throw new ArgumentException("run request too large");
        }

        var packet = new byte[size];
        WriteHeader(packet, AgentOp.Run, size - HeaderSize);
        var fixedPart = packet.AsSpan(HeaderSize, fixedSize);
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart, spec.Uid);
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart[4..], spec.Gid);
        BinaryPrimitives.WriteUInt64LittleEndian(fixedPart[8..], spec.CpuSeconds);
        BinaryPrimitives.WriteUInt64LittleEndian(fixedPart[16..], spec.FileSizeBytes);
        BinaryPrimitives.WriteUInt64LittleEndian(fixedPart[24..], spec.OpenFiles);
        BinaryPrimitives.WriteUInt64LittleEndian(fixedPart[32..], spec.StackBytes);
        BinaryPrimitives.WriteUInt64LittleEndian(fixedPart[40..], spec.Processes);
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart[48..], (uint)spec.Argv.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart[52..], (uint)spec.Environment.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart[56..], cgroupFds);
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart[60..], (uint)spec.After);
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart[64..], flags);
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart[RunFilesOffset..], (uint)files.Count);
        var rest = packet.AsSpan(HeaderSize + fixedSize);
        foreach (var list in (ReadOnlySpan<IReadOnlyList<string>>)[spec.Argv, spec.Environment])
        {
            for (var i = 0; i < list.Count; i++)
            {
                rest = rest[(Encoding.UTF8.GetBytes(list[i], rest) + 1)..];
            }
        }

        rest = rest[(Encoding.UTF8.GetBytes(spec.WorkingDirectory, rest) + 1)..];
        foreach (var file in files)
        {
            var put = file.Packet.AsSpan(HeaderSize);
            BinaryPrimitives.WriteUInt32LittleEndian(rest, (uint)put.Length);
            put.CopyTo(rest[4..]);
            rest = rest[(4 + put.Length)..];
        }

        return packet;

        static int StringSize(string s) => s.Contains('\0', StringComparison.Ordinal)
            ? throw new ArgumentException("arguments cannot contain NUL characters")
            : Encoding.UTF8.GetByteCount(s) + 1;
    }

    private long Status(AgentOp op, TimeSpan timeout)
    {
        lock (_gate)
        {
            SetTimeout(timeout);
            Span<byte> header = stackalloc byte[HeaderSize];
            WriteHeader(header, op, 0);
            Send(header, []);
            var (ok, errno, count) = ReceiveStatus(op);
            if (!ok)
            {
                throw new AgentException($"agent refused {op} (errno {errno})");
            }

            return count;
        }
    }

    private (bool Ok, int Errno, long Count) ReceiveStatus(AgentOp op)
    {
        var buffer = new byte[64];
        var (length, fds) = Receive(buffer, maxFds: 0);
        foreach (var fd in fds)
        {
            fd.Dispose();
        }

        var payload = CheckHeader(buffer.AsSpan(0, length), op);
        if (payload.Length != 16)
        {
            throw new AgentException($"agent sent a malformed {op} reply");
        }

        return (BinaryPrimitives.ReadInt32LittleEndian(payload) == 1, BinaryPrimitives.ReadInt32LittleEndian(payload[4..]), BinaryPrimitives.ReadInt64LittleEndian(payload[8..]));
    }

    private static void WriteHeader(Span<byte> packet, AgentOp op, int payloadLength)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(packet, Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(packet[4..], Version);
        BinaryPrimitives.WriteUInt32LittleEndian(packet[8..], (uint)op);
        BinaryPrimitives.WriteUInt32LittleEndian(packet[12..], (uint)payloadLength);
    }

    private static ReadOnlySpan<byte> CheckHeader(ReadOnlySpan<byte> packet, AgentOp op)
    {
        if (packet.Length < HeaderSize
            || BinaryPrimitives.ReadUInt32LittleEndian(packet) != Magic
            || BinaryPrimitives.ReadUInt32LittleEndian(packet[4..]) != Version
            || BinaryPrimitives.ReadUInt32LittleEndian(packet[8..]) != (uint)op
            || BinaryPrimitives.ReadUInt32LittleEndian(packet[12..]) != packet.Length - HeaderSize)
        {
            throw new AgentException($"agent sent a malformed reply to {op}");
        }

        return packet[HeaderSize..];
    }

    private void SetTimeout(TimeSpan timeout) => _timeoutMs = (int)Math.Clamp(timeout.TotalMilliseconds, 1, int.MaxValue);

    /// <summary>Waits until the socket is ready for <paramref name="events"/>, or fails at the deadline.</summary>
    private unsafe void WaitFor(short events)
    {
        var pfd = new Native.PollFd { Fd = _fd, Events = events };
        while (true)
        {
            var n = Native.poll(&pfd, 1, _timeoutMs);
            if (n > 0)
            {
                return;
            }

            if (n == 0)
            {
                throw new AgentException("the agent did not answer in time");
            }

            if (Marshal.GetLastPInvokeError() != Native.EINTR)
            {
                throw new AgentException($"poll on the agent socket failed: {Native.LastError()}");
            }
        }
    }

    /// <summary>Sends the files put ahead (each a packet of its own), then <paramref name="packet"/> with <paramref name="fds"/>.</summary>
    private void Send(ReadOnlySpan<byte> packet, IReadOnlyList<SafeFileHandle> fds)
    {
        ObjectDisposedException.ThrowIf(_fd < 0, this);
        try
        {
            foreach (var ahead in _ahead)
            {
                SendOne(ahead.Packet, ahead.Fds);
            }
        }
        finally
        {
            DropAhead();
        }

        SendOne(packet, fds);
    }

    private void DropAhead()
    {
        foreach (var message in _ahead)
        {
            message.Owned?.Dispose();
        }

        _ahead.Clear();
    }

    /// <summary>One packet and its descriptors in one sendmsg.</summary>
    private unsafe void SendOne(ReadOnlySpan<byte> packet, IReadOnlyList<SafeFileHandle> fds)
    {
        const int maxFds = 3 + 8;
        if (fds.Count > maxFds)
        {
            throw new ArgumentException("too many descriptors for one packet");
        }

        var control = stackalloc byte[16 + Align8(maxFds * 4)];
        var added = 0;
        try
        {
            var data = (int*)(control + 16);
            for (; added < fds.Count; added++)
            {
                var success = false;
                fds[added].DangerousAddRef(ref success);
                data[added] = (int)fds[added].DangerousGetHandle();
            }

            var cm = (Native.CMsgHdr*)control;
            cm->Length = (nuint)(16 + (fds.Count * 4));
            cm->Level = Native.SOL_SOCKET;
            cm->Type = Native.SCM_RIGHTS;
            fixed (byte* p = packet)
            {
                var iov = new Native.IoVec { Base = p, Length = (nuint)packet.Length };
                var msg = new Native.MsgHdr { Iov = &iov, IovLength = 1 };
                if (fds.Count > 0)
                {
                    msg.Control = control;
                    msg.ControlLength = (nuint)(16 + Align8(fds.Count * 4));
                }

                while (true)
                {
                    var n = Native.sendmsg(_fd, &msg, Native.MSG_NOSIGNAL);
                    if (n >= 0)
                    {
                        // A packet goes whole or not at all.
                        if (n != packet.Length)
                        {
                            throw new AgentException("sending to the agent failed: a packet went out cut short");
                        }

                        return;
                    }

                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == Native.EAGAIN)
                    {
                        WaitFor(Native.POLLOUT);
                    }
                    else if (errno != Native.EINTR)
                    {
                        throw new AgentException($"sending to the agent failed: {Native.LastError()}");
                    }
                }
            }
        }
        finally
        {
            for (var i = 0; i < added; i++)
            {
                fds[i].DangerousRelease();
            }
        }
    }

    private unsafe (int Length, IReadOnlyList<SafeFileHandle> Fds) Receive(Span<byte> buffer, int maxFds)
    {
        ObjectDisposedException.ThrowIf(_fd < 0, this);
        const int controlSize = 16 + 64;
        var control = stackalloc byte[controlSize];
        List<SafeFileHandle>? fds = null;
        fixed (byte* p = buffer)
        {
            var iov = new Native.IoVec { Base = p, Length = (nuint)buffer.Length };
            var msg = new Native.MsgHdr { Iov = &iov, IovLength = 1, Control = control, ControlLength = controlSize };
            nint n;
            while (true)
            {
                // Non-blocking: a reply that is already there (a run's, once poll() said so) costs no poll of its own.
                msg.ControlLength = controlSize;
                msg.Flags = 0;
                n = Native.recvmsg(_fd, &msg, Native.MSG_CMSG_CLOEXEC);
                var errno = n < 0 ? Marshal.GetLastPInvokeError() : 0;
                if (errno == Native.EAGAIN)
                {
                    WaitFor(Native.POLLIN);
                }
                else if (errno != Native.EINTR)
                {
                    break;
                }
            }

            if (n < 0)
            {
                throw new AgentException($"receiving from the agent failed: {Native.LastError()}");
            }

            if (n == 0)
            {
                throw new AgentException("the agent closed the connection (the container stopped)");
            }

            if (msg.ControlLength >= 16)
            {
                var cm = (Native.CMsgHdr*)control;
                if (cm->Level == Native.SOL_SOCKET && cm->Type == Native.SCM_RIGHTS)
                {
                    var count = ((int)cm->Length - 16) / 4;
                    var data = (int*)(control + 16);
                    fds = new List<SafeFileHandle>(count);
                    for (var i = 0; i < count; i++)
                    {
                        fds.Add(new SafeFileHandle(data[i], ownsHandle: true));
                    }
                }
            }

            if ((msg.Flags & (Native.MSG_TRUNC | Native.MSG_CTRUNC)) != 0 || (fds?.Count ?? 0) > maxFds)
            {
                foreach (var fd in fds ?? [])
                {
                    fd.Dispose();
                }

                throw new AgentException("the agent sent an oversized message");
            }

            return ((int)n, fds ?? (IReadOnlyList<SafeFileHandle>)[]);
        }
    }

    private static int Align8(int n) => (n + 7) & ~7;
}
