namespace Slacker.Fuse.Protocol;

/// <summary>Numeric constants of the FUSE kernel protocol that this server uses.</summary>
internal static class FuseConstants
{
    public const uint KernelVersion = 7;
    /// <summary>The protocol minor this server implements; the kernel uses min(its own, ours).</summary>
    public const uint KernelMinorVersion = 45;
    /// <summary>Oldest minor we accept: 7.12 (Linux 2.6.29) has every struct at its current size for what we use.</summary>
    public const uint MinimumKernelMinorVersion = 12;

    public const ulong RootId = 1;

    public const int InHeaderSize = 40;
    public const int OutHeaderSize = 16;
    public const int MinReadBuffer = 8192;
    /// <summary>Headroom above max_write in every request buffer, as libfuse (FUSE_BUFFER_HEADER_SIZE).</summary>
    public const int BufferHeaderSize = 0x1000;
    /// <summary>Kernel default when /proc/sys/fs/fuse/max_pages_limit is absent (FUSE_MAX_MAX_PAGES).</summary>
    public const int DefaultMaxPagesLimit = 256;

    /// <summary>_IOR(229, 0, uint32_t): attach a new /dev/fuse fd to an existing connection.</summary>
    public const uint DevIocClone = 0x8004E500;

    public const uint GetattrFh = 1 << 0;
    public const uint FsyncFdatasync = 1 << 0;

    public const int DirentAlign = 8;
}

/// <summary>FUSE_INIT capability bits (flags | flags2 &lt;&lt; 32).</summary>
[Flags]
internal enum FuseInitFlags : ulong
{
    None = 0,
    AsyncRead = 1UL << 0,
    PosixLocks = 1UL << 1,
    AtomicOTrunc = 1UL << 3,
    ExportSupport = 1UL << 4,
    BigWrites = 1UL << 5,
    DontMask = 1UL << 6,
    SpliceWrite = 1UL << 7,
    SpliceMove = 1UL << 8,
    SpliceRead = 1UL << 9,
    FlockLocks = 1UL << 10,
    HasIoctlDir = 1UL << 11,
    AutoInvalData = 1UL << 12,
    DoReaddirplus = 1UL << 13,
    ReaddirplusAuto = 1UL << 14,
    AsyncDio = 1UL << 15,
    WritebackCache = 1UL << 16,
    NoOpenSupport = 1UL << 17,
    ParallelDirops = 1UL << 18,
    HandleKillpriv = 1UL << 19,
    PosixAcl = 1UL << 20,
    AbortError = 1UL << 21,
    MaxPages = 1UL << 22,
    CacheSymlinks = 1UL << 23,
    NoOpendirSupport = 1UL << 24,
    ExplicitInvalData = 1UL << 25,
    MapAlignment = 1UL << 26,
    SubMounts = 1UL << 27,
    HandleKillprivV2 = 1UL << 28,
    SetxattrExt = 1UL << 29,
    InitExt = 1UL << 30,
    InitReserved = 1UL << 31,
    SecurityCtx = 1UL << 32,
    HasInodeDax = 1UL << 33,
    CreateSuppGroup = 1UL << 34,
    HasExpireOnly = 1UL << 35,
    DirectIoAllowMmap = 1UL << 36,
    Passthrough = 1UL << 37,
    NoExportSupport = 1UL << 38,
    HasResend = 1UL << 39,
}

/// <summary>fuse_open_out.open_flags.</summary>
[Flags]
internal enum FuseOpenFlags : uint
{
    None = 0,
    DirectIo = 1 << 0,
    KeepCache = 1 << 1,
    NonSeekable = 1 << 2,
    CacheDir = 1 << 3,
    Stream = 1 << 4,
    NoFlush = 1 << 5,
    ParallelDirectWrites = 1 << 6,
    Passthrough = 1 << 7,
}

/// <summary>fuse_setattr_in.valid.</summary>
[Flags]
internal enum FuseSetattrValid : uint
{
    None = 0,
    Mode = 1 << 0,
    Uid = 1 << 1,
    Gid = 1 << 2,
    Size = 1 << 3,
    Atime = 1 << 4,
    Mtime = 1 << 5,
    Fh = 1 << 6,
    AtimeNow = 1 << 7,
    MtimeNow = 1 << 8,
    LockOwner = 1 << 9,
    Ctime = 1 << 10,
    KillSuidgid = 1 << 11,
}
