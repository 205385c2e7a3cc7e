using Slacker.Images.Native;

namespace Slacker.Images.Tests.Support;

/// <summary>lstat and xattrs of one path, for listings.</summary>
public sealed record FileStat(char Type, uint Mode, uint Uid, uint Gid, long Size, uint Links, uint Major, uint Minor)
{
    public static FileStat Lstat(string path)
    {
        if (Sys.StatxAt(Sys.AT_FDCWD, path, Sys.AT_SYMLINK_NOFOLLOW, Sys.STATX_BASIC_STATS, out var st) != 0)
        {
            throw new IOException($"statx {path}: {Sys.Describe(Sys.LastError)}");
        }

        var type = st.Type switch
        {
            Sys.S_IFDIR => 'd',
            Sys.S_IFREG => 'f',
            Sys.S_IFLNK => 'l',
            Sys.S_IFCHR => 'c',
            Sys.S_IFBLK => 'b',
            Sys.S_IFIFO => 'p',
            _ => 's',
        };
        return new FileStat(type, st.Mode & 0xFFFu, st.Uid, st.Gid, (long)st.Size, st.Nlink, st.RdevMajor, st.RdevMinor);
    }

    public static IEnumerable<(string Name, byte[] Value)> Xattrs(string path) =>
        Native.Xattrs.List(path).Where(n => !n.StartsWith("security.selinux", StringComparison.Ordinal))
            .Select(n => (n, Native.Xattrs.Get(path, n) ?? []));
}
